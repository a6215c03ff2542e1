"""The analyst console: a Starlette web app over the review desk."""
