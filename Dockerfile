# The support line in one image: gunicorn with gunicorn.conf.py, the flows and recordings
# of this repository, state under /var/lib/ivr. docs/DEPLOY.md explains the recipe.
#
#   docker build -t ivr .
#   docker compose up -d          # with Redis and PostgreSQL: see compose.yaml
FROM python:3.11-slim

RUN useradd --system --uid 10001 --home-dir /srv/ivr --shell /usr/sbin/nologin ivr \
    && mkdir -p /srv/ivr /var/lib/ivr/models \
    && chown ivr:ivr /var/lib/ivr /var/lib/ivr/models
WORKDIR /srv/ivr

# The server's dependencies exactly as locked (hashes checked), then the package alone.
COPY requirements/run.txt requirements/run.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/run.txt
COPY pyproject.toml README.md ./
COPY ivr ivr
RUN pip install --no-cache-dir --no-deps . && rm -rf build ivr.egg-info

COPY call_flows call_flows
COPY audio audio
COPY agents.example.yaml gunicorn.conf.py ./

ENV IVR_FLOWS_DIR=/srv/ivr/call_flows \
    IVR_AUDIO_DIR=/srv/ivr/audio \
    IVR_VAR_DIR=/var/lib/ivr \
    IVR_MODEL_CACHE=/var/lib/ivr/models
VOLUME /var/lib/ivr
USER ivr
EXPOSE 8080

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]

CMD ["gunicorn", "-c", "/srv/ivr/gunicorn.conf.py"]
