# Leading Health nudges: `leading-bot serve` on a slim Python, as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 app
WORKDIR /app

# The same install as `make serve`, but only the runtime packages: devkit/ (the Slack simulator
# and the demo), tests and benchmarks are not copied (and .dockerignore keeps them out of the
# build context), so package discovery finds bot and scheduler alone.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY scheduler ./scheduler
RUN pip install .

USER app
RUN mkdir -p /home/app/data
ENV PORT=3000 \
    DATABASE_URL=sqlite:////home/app/data/leading-bot.db
VOLUME ["/home/app/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"

CMD ["leading-bot", "serve"]
