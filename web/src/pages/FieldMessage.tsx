/** The API's error for one field, shown at the field. */
import type { FieldError } from '../api';

/** Errors whose path is `path` or lies under it (`config.amount` under `config`). */
export function errorsAt(errors: FieldError[], path: string): FieldError[] {
  return errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`));
}

export function fieldId(path: string): string {
  return `field-${path.replace(/[^a-zA-Z0-9]+/g, '-')}`;
}

export function FieldMessage({ errors, path }: { errors: FieldError[]; path: string }) {
  const mine = errorsAt(errors, path);
  if (!mine.length) return null;
  return (
    <p className="field-error" id={`${fieldId(path)}-error`} role="alert">
      {mine.map((e) => (e.path === path ? e.message : `${e.path.slice(path.length + 1)}: ${e.message}`)).join('; ')}
    </p>
  );
}
