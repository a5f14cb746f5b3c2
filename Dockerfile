# Anxinbao production image: gunicorn (web), Celery worker and beat share it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=anxinbao.settings.production

# WeasyPrint's system libraries (Pango, HarfBuzz with the fast subsetter),
# the CJK font for Chinese PDFs, and gettext for the translation catalogues.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
      libfontconfig1 libjpeg62-turbo libopenjp2-7 shared-mime-info \
      fonts-noto-cjk gettext curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY anxinbao ./anxinbao
COPY core ./core
COPY escrow ./escrow
COPY projects ./projects
COPY subsidies ./subsidies
RUN pip install .
COPY . .
# Static files and compiled translations are part of the image.
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
 && python manage.py compilemessages --ignore=.venv \
 && useradd --system --uid 1000 --home /app anxinbao \
 && mkdir -p /app/var/media && chown -R anxinbao /app/var

USER anxinbao
EXPOSE 8000
CMD ["gunicorn", "anxinbao.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", \
     "--access-logfile", "-"]
