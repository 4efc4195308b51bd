"""The sandbox for the office's Word templates (docxtpl fills them with Jinja).

An office template is data, not code: it may print the documented context variables, loop
over the documented lists and use a few filters, and nothing else. Two layers hold this.

1. Every template that `template_environment()` compiles (document body, headers, footers,
   footnotes, properties: whatever docxtpl hands it) is first checked node by node against
   a whitelist (`check_template_ast`). Anything else raises TemplateRefused naming the
   expression. The check runs when the office uploads a template and again every time one
   is rendered, so a template that reached the database some other way is refused as well.
2. The environment itself is Jinja's ImmutableSandboxedEnvironment with no globals, a few
   filters and tests, no calls, no arithmetic and attributes limited to the documented
   names, for whatever the first layer might ever let through.

Loops go only over the documented lists and nest at most MAX_LOOP_DEPTH deep, and one
rendered part stops at MAX_RENDERED_CHARS, so that a small template cannot make a huge file
or keep a worker busy for hours.
"""

from __future__ import annotations

from typing import NoReturn

from django.utils.translation import gettext as _
from jinja2 import nodes, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS as JINJA_TESTS

# What OfficialDocument.as_context() gives a template (a test keeps the two in step).
CONTEXT_VARIABLES = ("title", "recipient", "issuer", "issued_on", "reference", "attachments",
                     "copy_to", "printed_by", "printed_on", "classification", "mark",
                     "sections", "doc_number", "copy_number", "urgency", "signer", "masthead")
# The context variables that are lists, and the lists inside a section (a table's).
LIST_VARIABLES = ("sections", "attachments")
SECTION_LISTS = ("rows", "headers")
SECTION_FIELDS = ("kind", "level", "label", "text", "caption", *SECTION_LISTS)
LOOP_FIELDS = ("index", "index0", "revindex", "revindex0", "first", "last", "length",
               "depth", "depth0", "previtem", "nextitem")
ATTRIBUTES = SECTION_FIELDS + LOOP_FIELDS
# Loop fields are read on `loop` only: on a string, "index" is a method.
LOOP_ONLY_FIELDS = frozenset(LOOP_FIELDS) - frozenset(SECTION_FIELDS)
# Filter or test name -> how many arguments it may take. None takes a width, a count, an
# attribute name or a format: those could build huge strings or reach attributes.
FILTERS = {"join": 1, "default": 2, "d": 2, "length": 0, "count": 0, "first": 0, "last": 0,
           "upper": 0, "lower": 0, "trim": 0}
TESTS = {"defined": 0, "undefined": 0, "none": 0, "even": 0, "odd": 0, "string": 0,
         "number": 0, "sequence": 0}
MAX_LOOP_DEPTH = 3
# The largest part (document.xml, a header...) a template may render to; a long report is a
# few MB of XML.
MAX_RENDERED_CHARS = 30_000_000
MAX_SHOWN = 200

_STATEMENTS = {
    nodes.Assign: "set", nodes.AssignBlock: "set", nodes.Include: "include",
    nodes.Import: "import", nodes.FromImport: "from", nodes.Extends: "extends",
    nodes.Macro: "macro", nodes.CallBlock: "call", nodes.FilterBlock: "filter",
    nodes.Block: "block", nodes.With: "with", nodes.EvalContextModifier: "autoescape",
    nodes.ExprStmt: "do", nodes.Continue: "continue", nodes.Break: "break",
}


class TemplateRefused(SecurityError):
    """A template expression outside the whitelist; `expression` is its text as written."""

    def __init__(self, expression: str, reason: str):
        super().__init__(f"{expression}: {reason}")
        self.args = (expression, reason)
        self.expression = expression
        self.reason = reason

    def __str__(self):
        return f"{self.expression}: {self.reason}"


class TemplateTooLarge(SecurityError):
    """The rendered part passed MAX_RENDERED_CHARS; rendering stopped there."""


def _bounded_concat(chunks) -> str:
    """Jinja joins a template's output with this: it stops as soon as the output is too large,
    while the chunks are still being produced."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_RENDERED_CHARS:
            raise _too_large()
        parts.append(chunk)
    return "".join(parts)


def _too_large() -> TemplateTooLarge:
    return TemplateTooLarge(_("模板填充后超过%(limit)d个字符，请减少循环或嵌套")
                            % {"limit": MAX_RENDERED_CHARS})


@pass_eval_context
def _bounded_join(eval_ctx, value, d=""):
    """join, which could multiply a value's length when chained (title|join(",")|join(",")…)
    inside an {% if %} that prints nothing: its result counts against the same limit as
    the output, measured before it is built (escaping may grow it up to six times)."""
    items = list(value)
    size = sum(len(str(item)) for item in items) + len(str(d)) * max(len(items) - 1, 0)
    if size * 6 > MAX_RENDERED_CHARS:
        raise _too_large()
    return JINJA_FILTERS["join"](eval_ctx, items, d)


class TemplateEnvironment(ImmutableSandboxedEnvironment):
    """The only Jinja environment an office template is compiled in."""

    concat = staticmethod(_bounded_concat)
    intercepted_binops = frozenset(["+", "-", "*", "/", "//", "%", "**"])
    intercepted_unops = frozenset(["+", "-"])

    def __init__(self):
        super().__init__(autoescape=True)
        self.globals.clear()  # no range, dict, lipsum, cycler, joiner, namespace
        self.filters = {name: JINJA_FILTERS[name] for name in FILTERS}
        self.filters["join"] = _bounded_join
        self.tests = {name: JINJA_TESTS[name] for name in TESTS}

    def is_safe_attribute(self, obj, attr, value):
        if attr.startswith("_") or attr in ("format", "format_map"):
            return False
        if attr in LOOP_ONLY_FIELDS and not isinstance(obj, LoopContext):
            return False
        return attr in ATTRIBUTES and super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj):
        return False

    def call_binop(self, context, operator, left, right):
        raise SecurityError(f"operator {operator!r} is not allowed in a document template")

    def call_unop(self, context, operator, arg):
        raise SecurityError(f"operator {operator!r} is not allowed in a document template")

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        check_template_ast(tree, source)
        return tree

    def compile_expression(self, source, undefined_to_none=True):
        raise SecurityError("expressions are not compiled outside a checked template")


def template_environment() -> TemplateEnvironment:
    """A fresh environment for one rendering (docxtpl sets attributes on it)."""
    return TemplateEnvironment()


def check_template_ast(tree: nodes.Template, source: str) -> None:
    """Raise TemplateRefused at the first node outside the whitelist."""
    _Checker(source).statements(tree.body)


class _Checker:
    def __init__(self, source: str):
        self.source = source
        self.loops: list[set[str]] = []  # the names each enclosing loop binds

    # --- refusing, with the expression as the office wrote it ------------------------------
    def refuse(self, node: nodes.Node, needle: str, reason: str) -> NoReturn:
        raise TemplateRefused(self._shown(node.lineno, needle), reason)

    def _shown(self, lineno: int, needle: str) -> str:
        """The tag on the node's line that contains needle (else the line's first tag)."""
        tags: list[tuple[int, int, str]] = []
        current: list | None = None
        for line, token, value in TemplateEnvironment().lex(self.source):
            if token in ("variable_begin", "block_begin"):
                current = [line, line, [value]]
            elif current is not None:
                current[1] = line
                current[2].append(value)
                if token in ("variable_end", "block_end"):
                    tags.append((current[0], current[1], "".join(current[2])))
                    current = None
        # Some nodes (the Scope around autoescape) carry no line: then any tag may be it.
        on_line = [text for first, last, text in tags
                   if lineno is None or first <= lineno <= last]
        chosen = next((text for text in on_line if needle and needle in text),
                      on_line[0] if on_line else needle)
        chosen = " ".join(chosen.split())
        return chosen if len(chosen) <= MAX_SHOWN else chosen[:MAX_SHOWN] + "…"

    # --- statements ------------------------------------------------------------------------
    def statements(self, body):
        for node in body:
            self.statement(node)

    def statement(self, node):
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if not isinstance(child, nodes.TemplateData):
                    self.expr(child)
        elif isinstance(node, nodes.If):
            self.expr(node.test)
            self.statements(node.body)
            for branch in node.elif_:
                self.expr(branch.test)
                self.statements(branch.body)
            self.statements(node.else_)
        elif isinstance(node, nodes.For):
            self.loop(node)
        else:
            # {% autoescape %} comes wrapped in a Scope.
            inner = node.body[0] if isinstance(node, nodes.Scope) and node.body else node
            keyword = next((word for kind, word in _STATEMENTS.items()
                            if isinstance(inner, kind)), type(inner).__name__)
            self.refuse(node, keyword,
                        _("不允许使用“%(tag)s”语句，模板只能使用for和if") % {"tag": keyword})

    def loop(self, node: nodes.For):
        # Several loops may share a line: "for <target>" tells this one's tag apart.
        needle = "for " + _target_text(node.target)
        if node.recursive:
            self.refuse(node, needle, _("不允许使用递归循环"))
        if len(self.loops) >= MAX_LOOP_DEPTH:
            self.refuse(node, needle, _("循环嵌套不能超过%(depth)d层") % {"depth": MAX_LOOP_DEPTH})
        self.iterable(node.iter, needle)
        names = self.targets(node.target)
        self.loops.append(names | {"loop"})
        if node.test is not None:
            self.expr(node.test)
        self.statements(node.body)
        self.loops.pop()
        self.statements(node.else_)

    def targets(self, node) -> set[str]:
        if isinstance(node, nodes.Name) and not node.name.startswith("_"):
            return {node.name}
        if isinstance(node, nodes.Tuple):
            return set().union(*(self.targets(item) for item in node.items))
        self.refuse(node, "for ", _("循环变量只能是简单的名称"))

    def iterable(self, node, needle: str):
        """Loops go over sections or attachments (outside any other loop), a loop variable, or
        a section's rows/headers."""
        bound = set().union(*self.loops) - {"loop"}
        if isinstance(node, nodes.Name):
            # sections and attachments only at the top: a loop over sections inside another
            # costs N² (N³) steps while printing nothing.
            ok = (node.name in LIST_VARIABLES and not self.loops) or node.name in bound
        elif isinstance(node, nodes.Getattr):
            ok = (node.attr in SECTION_LISTS and isinstance(node.node, nodes.Name)
                  and node.node.name in bound)
        else:
            ok = False
        if not ok:
            self.refuse(node, needle, _("循环只能遍历sections、attachments或表格的rows、headers"))
        self.expr(node)

    # --- expressions -----------------------------------------------------------------------
    def expr(self, node):
        if isinstance(node, nodes.Const):
            if not isinstance(node.value, (str, int, float, bool, type(None))):
                self.refuse(node, "", _("不允许的常量"))
        elif isinstance(node, nodes.Name):
            self.name(node)
        # Inner nodes first, so that the message names the root of the problem: in
        # cycler.__init__.__globals__.os.popen('id') that is "cycler", not the call.
        elif isinstance(node, nodes.Getattr):
            self.expr(node.node)
            self.attribute(node, node.attr)
        elif isinstance(node, nodes.Getitem):
            self.expr(node.node)
            self.subscript(node)
        elif isinstance(node, (nodes.Filter, nodes.Test)):
            self.filter_or_test(node)
        elif isinstance(node, nodes.Compare):
            self.expr(node.expr)
            for operand in node.ops:
                self.expr(operand.expr)
        elif isinstance(node, (nodes.And, nodes.Or)):
            self.expr(node.left)
            self.expr(node.right)
        elif isinstance(node, nodes.Not):
            self.expr(node.node)
        elif isinstance(node, nodes.CondExpr):
            for part in (node.test, node.expr1, node.expr2):
                if part is not None:
                    self.expr(part)
        elif isinstance(node, nodes.Concat):
            for part in node.nodes:
                self.expr(part)
        elif isinstance(node, nodes.Call):
            self.expr(node.node)
            self.refuse(node, "(", _("不允许调用函数或方法"))
        elif isinstance(node, (nodes.BinExpr, nodes.UnaryExpr)):
            self.refuse(node, node.operator,
                        _("不允许在模板中计算（%(op)s）") % {"op": node.operator})
        elif isinstance(node, (nodes.List, nodes.Tuple, nodes.Dict)):
            self.refuse(node, "", _("不允许在模板中写列表、元组或字典"))
        else:
            self.refuse(node, "", _("不允许的写法（%(kind)s）") % {"kind": type(node).__name__})

    def name(self, node: nodes.Name):
        if node.name.startswith("_"):
            self.refuse(node, node.name,
                        _("不允许使用以下划线开头的名称“%(name)s”") % {"name": node.name})
        if node.name not in CONTEXT_VARIABLES and not any(node.name in s for s in self.loops):
            self.refuse(node, node.name, _("“%(name)s”不是可用的填充标记") % {"name": node.name})

    def attribute(self, node, attr: str):
        if attr.startswith("_"):
            self.refuse(node, attr, _("不允许访问以下划线开头的属性“%(name)s”") % {"name": attr})
        on_loop = isinstance(node.node, nodes.Name) and node.node.name == "loop"
        if attr not in ATTRIBUTES or (attr in LOOP_ONLY_FIELDS and not on_loop):
            self.refuse(node, attr, _("不允许访问属性“%(name)s”") % {"name": attr})

    def subscript(self, node: nodes.Getitem):
        arg = node.arg
        if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            self.attribute(node, arg.value)
            return
        parts = (arg.start, arg.stop, arg.step) if isinstance(arg, nodes.Slice) else (arg,)
        if not all(_is_int_or_none(part) for part in parts):
            self.refuse(node, "[", _("方括号中只能写数字或可用的字段名"))

    def filter_or_test(self, node):
        if node.node is not None:
            self.expr(node.node)
        allowed, word = (FILTERS, _("过滤器")) if isinstance(node, nodes.Filter) else (
            TESTS, _("测试"))
        if node.name not in allowed:
            self.refuse(node, node.name, _("不允许使用%(kind)s“%(name)s”")
                        % {"kind": word, "name": node.name})
        if node.kwargs or node.dyn_args or node.dyn_kwargs or len(node.args) > allowed[node.name]:
            self.refuse(node, node.name, _("%(kind)s“%(name)s”的参数过多或带有命名参数")
                        % {"kind": word, "name": node.name})
        for arg in node.args:
            # A filter inside another's argument (title|join(title|join(title))) multiplies
            # lengths where no output is counted: arguments are plain values only.
            if not _is_plain(arg):
                self.refuse(node, node.name, _("%(kind)s“%(name)s”的参数只能是文字、数字或填充标记")
                            % {"kind": word, "name": node.name})
            self.expr(arg)


def _is_plain(node) -> bool:
    """A constant, a name or a field of one: nothing computed."""
    if isinstance(node, (nodes.Const, nodes.Name)):
        return True
    return isinstance(node, nodes.Getattr) and _is_plain(node.node)


def _is_int_or_none(node) -> bool:
    return node is None or (isinstance(node, nodes.Const) and type(node.value) is int)


def _target_text(node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Tuple):
        return ", ".join(_target_text(item) for item in node.items)
    return ""
