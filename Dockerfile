# The Trellis image: compiled JavaScript; ROLE picks api, worker or all.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/db/migrations ./db/migrations
# The built-in workflow templates (GET /workflow-templates) are read from here.
COPY --from=build /app/examples ./examples
COPY package.json ./
EXPOSE 3000
# As `npm start` runs it (README, Production). Without V8's memory reducer: its full collections,
# whenever the process looked idle, paused requests and workflow tasks for up to 62 ms. And letting
# the heap double between full collections: V8's own factor made one every 35–45 s under load.
CMD ["node", "--no-memory-reducer", "--heap-growing-percent=100", "dist/app/main.js"]
