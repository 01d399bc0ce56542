# syntax=docker/dockerfile:1
# One image for both processes: `contact-center serve` (default) and `contact-center worker`.

# --- assets: the console's front-end libraries from npm, with the lock file
FROM node:20-bookworm-slim AS assets
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts \
 && mkdir /vendor \
 && cp node_modules/htmx.org/dist/htmx.min.js \
       node_modules/htmx-ext-sse/dist/sse.min.js \
       node_modules/swagger-ui-dist/swagger-ui-bundle.js \
       node_modules/swagger-ui-dist/swagger-ui.css /vendor/

# --- build: the wheels of the app (with its assets) and of its locked dependencies
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 UV_PYTHON_DOWNLOADS=never
RUN pip install "uv==0.13.8"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
COPY --from=assets /vendor src/contact_center/console/static/vendor
# The wheels of the locked dependencies; then the console's message catalogs compiled with the
# locked Babel (the .mo files go into the app's wheel); then the app's wheel.
RUN uv export --frozen --no-dev --no-emit-project --format requirements-txt -o requirements.txt \
 && pip wheel --wheel-dir /wheels -r requirements.txt \
 && pip install --no-index --find-links=/wheels -r requirements.txt \
 && pybabel -q compile -d src/contact_center/console/locale \
 && pip wheel --no-deps --wheel-dir /wheels .

# --- runtime: slim, no compilers, no Node, not root
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production APP_PORT=3000 RECORDINGS_DIR=/data/recordings
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels /wheels/*.whl \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /app --create-home app \
 && mkdir -p /data/recordings \
 && chown -R app:app /data
USER 10001:10001
WORKDIR /app
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', os.environ.get('APP_PORT', '3000')) + '/api/health', timeout=4)"]
CMD ["contact-center", "serve"]
