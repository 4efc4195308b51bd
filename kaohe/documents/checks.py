"""Warnings when PDF documents would come out without Chinese glyphs or in faces of the
wrong style, and a note naming the faces in use."""

import shutil
import subprocess

from django.core.checks import CheckMessage, Info, register
from django.core.checks import Warning as CheckWarning

from kaohe.documents import fonts


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


@register(deploy=True)
def official_faces(app_configs, **kwargs):
    """Names the face set for 仿宋, 楷体, 黑体, 宋体 and 小标宋, and warns for each role that
    falls back to a face of another style (Noto CJK's Song or Sans). Under `check --deploy`,
    where an operator looks before going live, not on every command of the demo."""
    faces = fonts.faces()
    messages: list[CheckMessage] = [Info("Official documents are set in " + "; ".join(
        f"{face.role.label} {face.name} ({face.source})" for face in faces) + ".",
        id="kaohe.documents.I001")]
    for face in faces:
        if face.source == "fallback":
            messages.append(CheckWarning(
                f"No {face.role.label} face: PDF documents set it in {face.name}, "
                "a face of another style.",
                hint="Set KAOHE_FONT_DIR to a folder with the office's fonts, or install "
                     "Debian's texlive-lang-chinese (the Fandol faces).",
                id="kaohe.documents.W003"))
    return messages
