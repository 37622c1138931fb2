"""Liquid as A2I renders it: autoescape, A2I's filters, errors returned (never raised), bounded cost."""

from __future__ import annotations

from review.rendering import MAX_LOOP_ITERATIONS, check_template, render


def test_autoescape_and_a2is_filters():
    task = {"v": "<b>&</b>", "o": {"k": "<"}, "u": "s3://bucket/key"}
    html = render(
        "{{ task.input.v }} {{ task.input.v | skip_autoescape }} {{ task.input.v | escape_once }} "
        "{{ task.input.o | to_json }} {{ task.input.u | grant_read_access }} {{ task.input.nothing | to_json }}",
        task,
        grant_read_access=lambda uri: "https://example.invalid/" + uri[5:],
    ).html
    assert html == (
        "&lt;b&gt;&amp;&lt;/b&gt; <b>&</b> &lt;b&gt;&amp;&lt;/b&gt; {&#34;k&#34;: &#34;&lt;&#34;} "
        "https://example.invalid/bucket/key null"
    )


def test_undefined_values_render_empty_as_in_a2i():
    assert render("[{{ task.input.a.b.c }}]", {}).html == "[]"


def test_errors_are_returned_with_their_kind():
    assert check_template("{% for x in task.input %}")[0].code == "LiquidSyntaxError"
    rendered = render("{{ 1 | nope }}", {})
    assert rendered.html == "" and rendered.errors[0].code == "UnknownFilterError"
    assert rendered.errors[0].as_aws()["Code"] == "UnknownFilterError"


def test_a_runaway_loop_is_an_error_not_a_hang():
    rendered = render("{% for i in (1..100000000) %}x{% endfor %}", {})
    assert rendered.errors and rendered.errors[0].code == "LoopIterationLimitError"
    assert MAX_LOOP_ITERATIONS < 100_000_000


def test_an_include_has_nothing_to_include():
    rendered = render("{% include 'secrets' %}", {})
    assert rendered.errors and rendered.errors[0].code == "TemplateNotFoundError"
