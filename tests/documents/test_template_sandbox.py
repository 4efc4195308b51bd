"""The office's Word templates are data, not code (issue 15, item 1).

Known Jinja escapes are refused at upload with a message naming the template and the
expression, and a template that reaches the database some other way never runs them: the
export fails cleanly. Commands in the payloads touch a marker file, so that running one
shows."""

import html
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document

from kaohe.audit.models import AuditEntry
from kaohe.documents.base import REGISTRY, get_exporter, render_with_template
from kaohe.documents.models import DocumentTemplate, Export, ExportStatus
from kaohe.documents.officialdoc import Heading, OfficialDocument, Paragraph, Table
from kaohe.documents.starter import starter_template
from kaohe.outcomes.models import Feedback

# (id, template text, what the refusal must show of it); MARKER is the file a command makes.
PAYLOADS = [
    ("cycler", "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
     "cycler.__init__.__globals__.os.popen("),
    ("joiner", "{{ joiner.__init__.__globals__.os.popen('touch MARKER').read() }}",
     "joiner.__init__.__globals__"),
    ("namespace", "{{ namespace.__init__.__globals__.os.popen('touch MARKER').read() }}",
     "namespace.__init__.__globals__"),
    ("lipsum", "{{ lipsum.__globals__['os'].popen('touch MARKER').read() }}",
     "lipsum.__globals__"),
    ("range_self", "{{ range.__self__.__import__('os').popen('touch MARKER').read() }}",
     "range.__self__"),
    ("subclasses", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
     "''.__class__.__mro__[1].__subclasses__()"),
    ("subclasses_loop",
     "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
     "().__class__.__base__"),
    ("request", "{{ request.application.__globals__.__builtins__.__import__('os')"
                ".popen('touch MARKER').read() }}", "request.application"),
    ("config", "{{ config.items() }}", "config.items()"),
    ("attr_filter", "{{ title|attr('__class__')|attr('__mro__') }}", "attr('__class__')"),
    ("str_format", "{{ '{0.__class__.__mro__}'.format(title) }}", ".format(title)"),
    ("format_filter", "{{ '%s'|format(title.__class__) }}", "format(title.__class__)"),
    ("percent_format", "{{ '%c%c%s' % (95, 95, 'class') }}", "'%c%c%s' %"),
    ("set", "{% set x = cycler.__init__.__globals__ %}{{ x.os.popen('touch MARKER').read() }}",
     "set x = cycler"),
    ("self_context", "{{ self._TemplateReference__context.cycler.__init__.__globals__.os"
                     ".popen('touch MARKER').read() }}", "self._TemplateReference__context"),
    ("include", "{% include 'kaohe/settings.py' %}", "include 'kaohe/settings.py'"),
    ("import", "{% import 'os' as os %}", "import 'os' as os"),
    ("extends", "{% extends 'base.html' %}", "extends 'base.html'"),
    ("macro", "{% macro m() %}{{ caller() }}{% endmacro %}", "macro m()"),
    ("hex_escape", "{{ title['\\x5f\\x5fclass\\x5f\\x5f'] }}", "\\x5f\\x5fclass"),
    ("method_call", "{{ title.upper() }}", "title.upper()"),
    ("mutation", "{{ sections.pop() }}", "sections.pop()"),
    ("autoescape_off", "{% autoescape false %}{{ title }}{% endautoescape %}",
     "autoescape false"),
    ("string_bomb", "{{ title * 100000000 }}", "title * 100000000"),
    ("deep_loops", "{% for a in sections %}{% for b in sections %}{% for c in sections %}"
                   "{% for d in sections %}x{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
     "for b in sections"),
    # Found by review: a filter inside a filter's argument multiplies lengths in an {% if %}
    # that prints nothing, and a loop field read off a string prints a method's address.
    ("join_in_argument", "{% if (title|join(title|join(title|join(title))))|length > 0 %}"
                         "x{% endif %}", "join"),
    ("loop_field_off_loop", "{{ title.index }}", "index"),
    ("literal_loop", "{% for i in [1, 2, 3] %}{{ i }}{% endfor %}", "for i in [1, 2, 3]"),
    ("map_attribute", "{{ sections|map(attribute='__class__')|list }}",
     "map(attribute='__class__')"),
    ("join_attribute", "{{ sections|join('', '__class__') }}", "join('', '__class__')"),
]
IDS = [p[0] for p in PAYLOADS]


def _template(text: str, identifier: str = "circular", where: str = "body") -> bytes:
    """The exporter's own starter template with the payload added in one of its parts."""
    document = Document(io.BytesIO(starter_template(get_exporter(identifier))))
    if where == "body":
        document.add_paragraph(text)
    elif where == "header":
        document.sections[0].header.add_paragraph(text)
    elif where == "footer":
        document.sections[0].footer.add_paragraph(text)
    elif where == "properties":
        document.core_properties.comments = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "pwned"


def _armed(text: str, marker) -> str:
    return text.replace("MARKER", str(marker))


# Upload -----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload,shown", [p[1:] for p in PAYLOADS], ids=IDS)
def test_every_known_escape_is_refused_at_upload_and_never_runs(personas, login, marker,
                                                                payload, shown):
    client = login(personas["office"])
    upload = SimpleUploadedFile("通报模板.docx", _template(_armed(payload, marker)))
    response = client.post(reverse("documents:template_upload", args=["circular"]),
                           {"file": upload}, follow=True)
    assert not marker.exists()
    assert not DocumentTemplate.objects.exists()
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "通报模板.docx" in page and "考核结果通报" in page and "不允许" in page
    assert _armed(shown, marker) in page


@pytest.mark.parametrize("where", ["header", "footer", "properties"])
def test_escapes_in_headers_footers_and_properties_are_refused_too(personas, login, marker,
                                                                  where):
    payload = _armed("{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
                     marker)
    client = login(personas["office"])
    response = client.post(reverse("documents:template_upload", args=["circular"]),
                           {"file": SimpleUploadedFile("页眉.docx", _template(payload,
                                                                              where=where))},
                           follow=True)
    page = html.unescape(response.content.decode())
    assert "页眉.docx" in page and "cycler.__init__" in page
    assert not DocumentTemplate.objects.exists()
    assert not marker.exists()


def test_a_refused_upload_is_in_the_audit_log(personas, login, marker):
    client = login(personas["office"])
    client.post(reverse("documents:template_upload", args=["circular"]),
                {"file": SimpleUploadedFile("t.docx", _template("{{ config.items() }}"))})
    entry = AuditEntry.objects.get(action="document.template_refused")
    assert entry.success is False and entry.actor == personas["office"]
    assert entry.data["document"] == "circular" and "config.items()" in entry.data["expression"]


# Render time: a template that bypassed the upload check --------------------------------


def _force(identifier: str, content: bytes, user):
    DocumentTemplate.objects.create(identifier=identifier, original_name="forced.docx",
                                    content=content, sha256="0" * 64, uploaded_by=user)


@pytest.mark.parametrize("payload", [p[1] for p in PAYLOADS], ids=IDS)
def test_a_forced_template_never_runs_when_a_unit_downloads_its_letter(
        released, personas, login, marker, payload):
    _force("feedback_letter", _template(_armed(payload, marker), "feedback_letter"),
           personas["office"])
    feedback = Feedback.objects.get(unit__code="B001")
    client = login(personas["unit_b"])
    response = client.get(reverse("documents:make", args=["feedback_letter", feedback.pk,
                                                          "docx"]), follow=True)
    assert not marker.exists()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("documents:index")
    assert "无法填充" in response.content.decode()
    export = Export.objects.get(identifier="feedback_letter")
    assert export.status == ExportStatus.FAILED and "TemplateFillError" in export.error


def test_a_forced_template_fails_the_bulk_export_in_the_worker(
        released, personas, login, marker, django_capture_on_commit_callbacks):
    payload = _armed("{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
                     marker)
    _force("feedback_letter", _template(payload, "feedback_letter"), personas["office"])
    client = login(personas["office"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("documents:make", args=["feedback_letters", "2017", "docx"]))
    export = Export.objects.get(identifier="feedback_letters")
    assert export.status == ExportStatus.FAILED and not export.storage_name
    assert not marker.exists()


def test_a_forced_template_fails_the_circular_cleanly(released, personas, login, marker):
    payload = _armed("{{ self._TemplateReference__context.cycler.__init__.__globals__.os"
                     ".popen('touch MARKER').read() }}", marker)
    _force("circular", _template(payload, where="footer"), personas["office"])
    client = login(personas["office"])
    response = client.get(reverse("documents:make", args=["circular", "2017", "docx"]))
    assert response.status_code == 302 and response.url == reverse("documents:index")
    assert not marker.exists()


# The second layer: the sandbox itself, with the static check switched off ----------------

EXECUTING = [p for p in PAYLOADS if "MARKER" in p[1] or p[0] in (
    "subclasses", "subclasses_loop", "attr_filter", "str_format", "format_filter",
    "percent_format", "hex_escape", "map_attribute", "join_attribute", "string_bomb")]


@pytest.mark.parametrize("payload", [p[1] for p in EXECUTING], ids=[p[0] for p in EXECUTING])
def test_the_sandbox_alone_stops_the_escapes(monkeypatch, marker, payload):
    from kaohe.documents import template_sandbox
    from kaohe.documents.base import TemplateFillError

    monkeypatch.setattr(template_sandbox, "check_template_ast", lambda tree, source: None)
    doc = OfficialDocument(title="标题", blocks=[Paragraph("正文")])
    try:
        data = render_with_template(_template(_armed(payload, marker)), doc)
    except TemplateFillError:
        pass
    else:
        text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
        assert "class" not in text and "uid=" not in text and "module" not in text
    assert not marker.exists()


def test_the_environment_has_no_globals_and_only_the_whitelisted_filters():
    from kaohe.documents.template_sandbox import FILTERS, TESTS, template_environment

    env = template_environment()
    assert env.globals == {}
    assert set(env.filters) == set(FILTERS) and set(env.tests) == set(TESTS)
    assert "attr" not in env.filters and "format" not in env.filters
    assert "safe" not in env.filters
    assert env.autoescape is True


def test_the_documented_variables_are_the_context():
    from kaohe.documents.template_sandbox import CONTEXT_VARIABLES, SECTION_FIELDS

    doc = OfficialDocument(title="t", blocks=[Heading(1, "h"), Paragraph("p"),
                                               Table(["a"], [["1"]], caption="c")])
    context = doc.as_context()
    assert set(context) == set(CONTEXT_VARIABLES)
    assert {key for section in context["sections"] for key in section} <= set(SECTION_FIELDS)


# Legitimate templates still work -------------------------------------------------------


@pytest.mark.parametrize("identifier", sorted(
    i for i, cls in REGISTRY.items() if cls.templatable and "docx" in cls.formats))
def test_every_starter_template_uploads(personas, login, identifier):
    client = login(personas["office"])
    upload = SimpleUploadedFile(f"{identifier}.docx", starter_template(get_exporter(identifier)))
    response = client.post(reverse("documents:template_upload", args=[identifier]),
                           {"file": upload}, follow=True)
    assert DocumentTemplate.objects.filter(identifier=identifier).exists(), (
        html.unescape(response.content.decode()))


RICH = [
    "{%p for s in sections %}",
    "{%p if s.kind == 'heading' and s.level == 1 %}",
    "第{{ loop.index }}节 {{ s.label }}{{ s['text']|upper }}",
    "{%p elif s.kind == 'table' and s.rows|length > 0 %}",
    "表头：{{ s.headers|join('，') }} 首格：{{ s.rows[0][0] }}",
    "{%p for row in s.rows %}",
    "{{ loop.index }}. {{ row|join(' ') }}{% if not loop.last %}；{% endif %}",
    "{%p endfor %}",
    "{%p elif s.kind == 'paragraph' %}",
    "{{ s.text|default('（空）') }}",
    "{%p endif %}",
    "{%p endfor %}",
    "附件：{% for a in attachments %}{{ a }}{% endfor %}",
    "{{ reference if reference else '无文号' }} {{ copy_to ~ '。' }}",
    "{% if mark is defined %}{{ mark }}{% endif %}",
]


def test_a_richer_legitimate_template_renders(personas, login):
    document = Document(io.BytesIO(starter_template(get_exporter("circular"))))
    for line in RICH:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    client = login(personas["office"])
    response = client.post(reverse("documents:template_upload", args=["circular"]),
                           {"file": SimpleUploadedFile("rich.docx", buffer.getvalue())},
                           follow=True)
    assert DocumentTemplate.objects.exists(), html.unescape(response.content.decode())
    doc = OfficialDocument(title="标题", blocks=[
        Heading(1, "abc"), Paragraph("正文"),
        Table(["序号", "单位"], [["1", "甲"], ["2", "乙"]], caption="表1")],
        copy_to="中央组织部", attachments=["附件一"])
    data = render_with_template(buffer.getvalue(), doc)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "word/document.xml" in archive.namelist()
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "第1节 一、ABC" in text and "表头：序号，单位 首格：1" in text
    assert "1. 1 甲；" in text and "2. 2 乙" in text and "附件：附件一" in text
    assert "无文号 中央组织部。" in text


def test_rendering_stops_when_loops_make_the_output_too_large():
    from kaohe.documents.base import TemplateFillError

    # Loops over sections cannot nest (N² steps printing nothing); one loop printing a long
    # text twice per section makes 40 million characters.
    payload = "{% for a in sections %}{{ a.text }}{{ a.text }}{% endfor %}"
    text = "考" * 100_000
    doc = OfficialDocument(title="t", blocks=[Paragraph(text)] * 200)
    with pytest.raises(TemplateFillError, match="超过30000000个字符"):
        render_with_template(_template(payload), doc)


def test_chained_joins_stop_at_the_limit_instead_of_filling_memory():
    # Each join of a string with "," doubles it; inside an {% if %} nothing is printed, so
    # only the join's own budget stops it. 40 joins of a 40-character title would be
    # 4 × 10^13 characters.
    from kaohe.documents.base import TemplateFillError

    joins = '|join(",")' * 40
    data = _template(f"{{% if title{joins}|length > 0 %}}x{{% endif %}}")
    doc = OfficialDocument(title="关" * 40, blocks=[Paragraph("正文")])
    with pytest.raises(TemplateFillError, match="30000000"):
        render_with_template(data, doc)
