/** The side panel's form for one step: its name and its type's config fields, with the API's errors at each field. */
import { type FormEvent, type ReactElement, useState } from 'react';
import type { FieldError, StepType } from '../api';
import { FieldMessage, errorsAt, fieldId } from '../pages/FieldMessage';
import { BranchesEditor, FilterEditor } from './StructuredFields';
import { STEP_KINDS, configOf, type FieldSpec, formValues } from './step-kinds';

export interface Choice {
  id: string;
  name: string;
}

interface Props {
  type: StepType;
  name: string;
  config: Record<string, unknown>;
  templates: Choice[];
  workflows: Choice[];
  submitLabel: string;
  /** Saves; answers the API's field errors (empty when saved). */
  onSubmit: (name: string, config: Record<string, unknown> | undefined) => Promise<FieldError[]>;
}

export function StepForm({ type, name: initialName, config, templates, workflows, submitLabel, onSubmit }: Props) {
  const kind = STEP_KINDS[type];
  const [name, setName] = useState(initialName);
  const [values, setValues] = useState(() => formValues(kind, config));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = configOf(kind, values);
    if (parsed.errors.length) return setErrors(parsed.errors);
    setBusy(true);
    try {
      setErrors(await onSubmit(name, type === 'TRIGGER' ? undefined : parsed.config));
    } finally {
      setBusy(false);
    }
  };
  const configPath = (field: FieldSpec) => (field.name === '' ? 'config' : `config.${field.name}`);
  const fieldPaths = new Set(['name', ...kind.fields.map(configPath)]);
  // Errors on no field of the form (a whole-config rule) show above the button.
  const general = errors.filter((e) => ![...fieldPaths].some((p) => errorsAt([e], p).length));
  return (
    <form className="stack step-form" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={fieldId('name')}>Name</label>
        <input id={fieldId('name')} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={errorsAt(errors, 'name').length > 0} />
        <FieldMessage errors={errors} path="name" />
      </div>
      {kind.fields.map((field) => (
        <Field
          key={field.name}
          field={field}
          path={configPath(field)}
          value={values[field.name] ?? ''}
          onChange={(v) => setValues((old) => ({ ...old, [field.name]: v }))}
          errors={errors}
          templates={templates}
          workflows={workflows}
        />
      ))}
      {general.length > 0 && (
        <p role="alert" className="field-error">
          {general.map((e) => e.message).join('; ')}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {submitLabel}
      </button>
    </form>
  );
}

function Field(props: {
  field: FieldSpec;
  path: string;
  value: string;
  onChange: (value: string) => void;
  errors: FieldError[];
  templates: Choice[];
  workflows: Choice[];
}) {
  const { field, path, value, onChange, errors } = props;
  if (field.kind === 'filter') return <FilterEditor value={value} onChange={onChange} errors={errors} />;
  if (field.kind === 'branches') return <BranchesEditor value={value} onChange={onChange} errors={errors} />;
  const id = fieldId(path);
  const invalid = errorsAt(errors, path).length > 0;
  const common = {
    id,
    'aria-invalid': invalid,
    'aria-describedby': [invalid ? `${id}-error` : '', field.help ? `${id}-help` : ''].filter(Boolean).join(' ') || undefined,
  };
  const choices = field.kind === 'template' ? props.templates : field.kind === 'workflow' ? props.workflows : null;
  let control: ReactElement;
  if (choices) {
    control = (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">Choose…</option>
        {choices.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === 'select' || field.kind === 'boolean') {
    const options = field.kind === 'boolean' ? ['', 'true', 'false'] : ['', ...(field.options ?? [])];
    const text = (o: string) => (field.kind === 'boolean' ? { '': 'Unchanged', true: 'Subscribe', false: 'Unsubscribe' }[o] : o || 'Choose…');
    control = (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map((o) => (
          <option key={o} value={o}>
            {text(o)}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === 'json') {
    control = <textarea {...common} rows={5} spellCheck={false} value={value} onChange={(e) => onChange(e.target.value)} />;
  } else {
    control = <input {...common} inputMode={field.kind === 'number' ? 'numeric' : undefined} value={value} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <div className="field">
      <label htmlFor={id}>{field.label}</label>
      {control}
      {field.help && (
        <p className="help" id={`${id}-help`}>
          {field.help}
        </p>
      )}
      <FieldMessage errors={errors} path={path} />
    </div>
  );
}
