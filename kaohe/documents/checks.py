"""A warning when PDF documents would come out without Chinese glyphs."""

import shutil
import subprocess

from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@register()
def cjk_font_installed(app_configs, **kwargs):
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return [CheckWarning("fontconfig (fc-list) is not installed; PDF documents need it.",
                             hint="apt-get install fontconfig fonts-noto-cjk",
                             id="kaohe.documents.W001")]
    found = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True,  # noqa: S603
                           text=True, check=False, timeout=20).stdout.strip()
    if not found:
        return [CheckWarning("No Chinese font is installed: PDF documents would show boxes.",
                             hint="apt-get install fonts-noto-cjk",
                             id="kaohe.documents.W002")]
    return []
