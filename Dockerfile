# unmeet: `unmeet serve` (web server + job worker), or any other `unmeet` command as the container's command.
# The same recipe without a container: deploy/run-local.sh (and deploy/systemd/, deploy/Procfile).
FROM python:3.12.8-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 unmeet \
 && useradd --system --uid 10001 --gid unmeet --home-dir /app --no-create-home --shell /usr/sbin/nologin unmeet \
 && mkdir -p /app /data \
 && chown unmeet:unmeet /data

WORKDIR /app
COPY pyproject.toml README.md LICENSE babel.cfg ./
COPY core ./core
COPY slack_app ./slack_app
COPY teams_app ./teams_app
COPY unmeet ./unmeet
COPY prompts ./prompts
RUN pip install --no-cache-dir . && rm -rf /app/build /app/*.egg-info

USER unmeet:unmeet
# Listen on every interface of the container; the SQLite default lives on the volume (use PostgreSQL
# for more than one instance: DATABASE_URL=postgresql://…). No secret belongs here: pass them at run time.
ENV HOST=0.0.0.0 \
    PORT=3978 \
    DATABASE_URL=sqlite:////data/unmeet.db \
    UNMEET_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 3978

# Alive: /healthz on PORT (a worker container sets UNMEET_WORKER_PORT and is checked there).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('UNMEET_WORKER_PORT') or os.environ.get('PORT', '3978'); urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]

ENTRYPOINT ["unmeet"]
CMD ["serve"]
