/**
 * /app/templates/:id — an email template's editor (SPEC §15): its fields, with the API's errors at
 * each, and a live preview of the content as typed (rendered by the API for sample data, nothing
 * saved), then save.
 */
import { type FormEvent, useEffect, useState } from 'react';
import { type FieldError, fieldErrors, messageOf, type Template, useClient } from '../api';
import { Link } from '../router';
import { FieldMessage, errorsAt, fieldId } from './FieldMessage';
import { Pending } from './Pending';

const PREVIEW_DELAY_MS = 300;
const SAMPLE = '{\n  "email": "ada@example.com",\n  "firstName": "Ada"\n}';

type Draft = { name: string; subject: string; body: string; text: string; type: string; from: string; fromName: string; replyTo: string };

function draftOf(t: Template): Draft {
  return {
    name: t.name,
    subject: t.subject,
    body: t.body,
    text: t.text ?? '',
    type: t.type,
    from: t.from ?? '',
    fromName: t.fromName ?? '',
    replyTo: t.replyTo ?? '',
  };
}

interface Preview {
  subject: string;
  html: string;
  text: string;
}

export function TemplateEditor({ templateId }: { templateId: string }) {
  const client = useClient();
  const [saved, setSaved] = useState<Template | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [sample, setSample] = useState(SAMPLE);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewErrors, setPreviewErrors] = useState<FieldError[]>([]);
  const [previewProblem, setPreviewProblem] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [notice, setNotice] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);

  useEffect(() => {
    client
      .getTemplate({ params: { id: templateId } })
      .then((t) => {
        setSaved(t);
        setDraft(draftOf(t));
      })
      .catch((err) => setNotice({ kind: 'error', text: messageOf(err) }));
  }, [client, templateId]);

  // The preview follows the draft as it is typed, a moment after the last key.
  const subject = draft?.subject;
  const body = draft?.body;
  const text = draft?.text;
  const type = draft?.type;
  useEffect(() => {
    if (subject === undefined || body === undefined) return;
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(sample) as Record<string, unknown>;
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error();
    } catch {
      setPreviewProblem('The sample data is not a JSON object.');
      return;
    }
    let current = true;
    const timer = window.setTimeout(() => {
      client
        .previewTemplateDraft({ body: { subject, body, text: text || null, type: type as Template['type'], data } })
        .then((p) => {
          if (!current) return;
          setPreview(p);
          setPreviewErrors([]);
          setPreviewProblem(null);
        })
        .catch((err) => {
          if (!current) return;
          setPreviewErrors(fieldErrors(err));
          setPreviewProblem(messageOf(err));
        });
    }, PREVIEW_DELAY_MS);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [client, subject, body, text, type, sample]);

  if (!draft || !saved) {
    return <Pending title="Template" error={notice?.text} />;
  }

  const set = (key: keyof Draft) => (value: string) => setDraft({ ...draft, [key]: value });
  const changed = JSON.stringify(draft) !== JSON.stringify(draftOf(saved));
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const orNull = (v: string) => (v.trim() === '' ? null : v);
    try {
      const t = await client.updateTemplate({
        params: { id: templateId },
        body: {
          name: draft.name,
          subject: draft.subject,
          body: draft.body,
          text: orNull(draft.text),
          type: draft.type as Template['type'],
          from: orNull(draft.from),
          fromName: orNull(draft.fromName),
          replyTo: orNull(draft.replyTo),
        },
      });
      setSaved(t);
      setDraft(draftOf(t));
      setErrors([]);
      setNotice({ kind: 'info', text: 'Saved. The next email sent with it uses this content.' });
    } catch (err) {
      const fields = fieldErrors(err);
      setErrors(fields);
      setNotice({ kind: 'error', text: fields.length ? 'Not saved: see the fields marked.' : messageOf(err) });
    }
  };
  // Syntax errors found while previewing show at their field too.
  const shown = errors.length ? errors : previewErrors;

  return (
    <main className="page wide">
      <p className="crumbs">
        <Link href="/app/workflows">Workflows</Link> /
      </p>
      <h1>Template: {saved.name}</h1>
      {notice && (
        <p role={notice.kind === 'error' ? 'alert' : 'status'} className={notice.kind === 'error' ? 'error notice' : 'info notice'}>
          {notice.text}
        </p>
      )}
      <div className="template-editor">
        <form className="stack" onSubmit={save} noValidate aria-label="Template">
          <TextField label="Name" path="name" value={draft.name} onChange={set('name')} errors={shown} />
          <TextField label="Subject" path="subject" value={draft.subject} onChange={set('subject')} errors={shown} />
          <TextField label="Body (HTML with Liquid)" path="body" value={draft.body} onChange={set('body')} errors={shown} rows={14} />
          <TextField
            label="Text part (optional; made from the body when empty)"
            path="text"
            value={draft.text}
            onChange={set('text')}
            errors={shown}
            rows={4}
          />
          <div className="field">
            <label htmlFor={fieldId('type')}>Type</label>
            <select id={fieldId('type')} value={draft.type} onChange={(e) => set('type')(e.target.value)}>
              <option value="MARKETING">Marketing (unsubscribe footer; not sent to unsubscribed contacts)</option>
              <option value="TRANSACTIONAL">Transactional</option>
              <option value="HEADLESS">Headless (body sent as it is)</option>
            </select>
          </div>
          <TextField label="From address (optional)" path="from" value={draft.from} onChange={set('from')} errors={shown} />
          <TextField label="From name (optional)" path="fromName" value={draft.fromName} onChange={set('fromName')} errors={shown} />
          <TextField label="Reply-to (optional)" path="replyTo" value={draft.replyTo} onChange={set('replyTo')} errors={shown} />
          <div className="row">
            <button type="submit" disabled={!changed}>
              Save template
            </button>
            <button type="button" className="quiet" disabled={!changed} onClick={() => setDraft(draftOf(saved))}>
              Revert
            </button>
            {changed && <span className="muted">Unsaved changes</span>}
          </div>
        </form>
        <section className="preview" aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          <div className="field">
            <label htmlFor="preview-sample">Sample contact data (JSON)</label>
            <textarea id="preview-sample" rows={4} spellCheck={false} value={sample} onChange={(e) => setSample(e.target.value)} />
          </div>
          {previewProblem && (
            <p className="error" role="alert" data-testid="preview-problem">
              {previewProblem}
            </p>
          )}
          {preview && (
            <>
              <p>
                <strong>Subject:</strong> <span data-testid="preview-subject">{preview.subject}</span>
              </p>
              <iframe title="Preview of the email's HTML" className="preview-html" sandbox="" srcDoc={preview.html} />
              <details>
                <summary>Text part</summary>
                <pre data-testid="preview-text">{preview.text}</pre>
              </details>
            </>
          )}
        </section>
      </div>
    </main>
  );
}

function TextField(props: { label: string; path: string; value: string; onChange: (v: string) => void; errors: FieldError[]; rows?: number }) {
  const id = fieldId(props.path);
  const invalid = errorsAt(props.errors, props.path).length > 0;
  const common = { id, value: props.value, 'aria-invalid': invalid, 'aria-describedby': invalid ? `${id}-error` : undefined };
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.rows ? (
        <textarea {...common} rows={props.rows} spellCheck={false} onChange={(e) => props.onChange(e.target.value)} />
      ) : (
        <input {...common} onChange={(e) => props.onChange(e.target.value)} />
      )}
      <FieldMessage errors={props.errors} path={props.path} />
    </div>
  );
}
