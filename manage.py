#!/usr/bin/env python
"""Django's command-line utility for the case store and review app (migrations, check --deploy).

Users run `matching …`; this is for developers: `python manage.py makemigrations casework`.
"""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "matching.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
