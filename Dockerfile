FROM python:3.12-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=opcms.settings.production
RUN apt-get update && apt-get install -y --no-install-recommends \
        fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput
# The statement PDF's CJK subset font, cached in the image (var/fonts): no 10-20 s first PDF.
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py build_statement_font
RUN useradd --create-home opcms && mkdir -p /data/media && chown -R opcms /data /app
USER opcms
EXPOSE 8000
CMD ["gunicorn", "opcms.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
