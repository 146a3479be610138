/**
 * GET /docs: Swagger UI over /openapi.json, served from the `swagger-ui-dist` package (no CDN, so the
 * page works offline). Only the three files the page loads are served, under /docs/assets/.
 */
import path from 'node:path';
import express, { type Router } from 'express';

const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

/** The page; its script is a separate file so that a strict Content-Security-Policy can allow it. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trellis API reference</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise send the document to an online validator.
const INIT_JS = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis],
});
`;

/** The static files of the page. */
export function docsAssets(): Router {
  const dir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const router = express.Router();
  router.use('/docs/assets', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const file = req.path.slice(1);
    if (file === 'init.js') {
      res.type('text/javascript').set('Cache-Control', 'no-cache').send(INIT_JS);
      return;
    }
    if (!ASSETS.includes(file)) return next();
    res.sendFile(path.join(dir, file), { maxAge: '1d' });
  });
  return router;
}
