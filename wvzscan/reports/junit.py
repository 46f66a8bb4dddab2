"""JUnit XML, so CI dashboards show leaks as failures. Scans: one failing test case per finding.
`keys audit`: one test case per key and practice broken, one passing case per clean key.

Every name, message and attribute goes through ``printable`` (``escape_line``): a control character
(from a file name or from the API) would make the XML not well-formed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from wvzscan.finding import ScanResult
from wvzscan.output.terminal import escape_line as printable
from wvzscan.reports import KeysContext, ReportContext

if TYPE_CHECKING:
    from wvzscan.hygiene import Audit


def render(result: ScanResult, ctx: ReportContext) -> str:
    suite = ET.Element(
        "testsuite",
        name="wvzscan",
        tests=str(max(1, len(result.findings)) + len(result.errors)),
        failures=str(len(result.findings)),
        errors=str(len(result.errors)),
        time=f"{result.seconds:.3f}",
    )
    if result.settings:  # a narrowed detector is never silent
        props = ET.SubElement(suite, "properties")
        for k, v in sorted(result.settings.items()):
            ET.SubElement(props, "property", name=f"wvzscan.setting.{printable(k)}", value=printable(str(v)))
    for f in result.findings:
        # printable(): control characters in a path or an API field would make the XML not well-formed.
        case = ET.SubElement(
            suite, "testcase", classname=printable(f"wvzscan.{f.source}"), name=printable(f.location())
        )
        key = f.secret if ctx.show_secrets else f.redacted
        message = printable(f"Weavz API key {key} ({f.state()})")
        fail = ET.SubElement(case, "failure", type="weavz-api-key", message=message)
        fail.text = "\n".join(printable(f"{k}: {v}") for k, v in f.to_dict(ctx.show_secrets).items() if v is not None)
    if not result.findings:
        ET.SubElement(suite, "testcase", classname="wvzscan", name="no leaked Weavz keys")
    for e in result.errors:
        case = ET.SubElement(suite, "testcase", classname="wvzscan.read", name=printable(e.where))
        ET.SubElement(case, "error", message=printable(e.message))
    suites = ET.Element("testsuites")
    suites.append(suite)
    return _document(suites)


def _document(suites: ET.Element) -> str:
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render_key_audit(audit: Audit, ctx: KeysContext) -> str:
    fails = audit.failing(ctx.fail_on)
    suite = ET.Element("testsuite", name="wvzscan keys audit")
    dirty = set()
    for f in audit.findings:
        dirty.add(f.key_id)
        rule = printable(f.rule_id)
        case = ET.SubElement(
            suite, "testcase", classname=f"wvzscan.keys.{rule}", name=printable(f.key_name or f.key_id)
        )
        tag = "failure" if f in fails else "skipped"
        el = ET.SubElement(case, tag, type=rule, message=printable(f"[{f.severity}] {f.message}"))
        el.text = "\n".join(
            printable(line) for line in (f"fix: {f.fix}", f"key id: {f.key_id}", f"key prefix: {f.key_prefix}")
        )
    for k in audit.keys:
        if k.id not in dirty:
            ET.SubElement(suite, "testcase", classname="wvzscan.keys", name=printable(k.name or k.id))
    for w in audit.warnings:
        case = ET.SubElement(suite, "testcase", classname="wvzscan.keys.check", name=printable(w.where))
        ET.SubElement(case, "error", message=printable(w.message))
    for e in audit.errors:
        case = ET.SubElement(suite, "testcase", classname="wvzscan.keys.read", name=printable(e.where))
        ET.SubElement(case, "error", message=printable(e.message))
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(len(fails)))
    suite.set("errors", str(len(audit.warnings) + len(audit.errors)))
    suite.set("skipped", str(len(audit.findings) - len(fails)))
    suites = ET.Element("testsuites")
    suites.append(suite)
    return _document(suites)
