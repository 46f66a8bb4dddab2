"""JUnit XML: one failing test case per finding, so CI dashboards show leaks as failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from wvzscan.finding import ScanResult
from wvzscan.report import ReportContext, printable


def render(result: ScanResult, ctx: ReportContext) -> str:
    suite = ET.Element(
        "testsuite",
        name="wvzscan",
        tests=str(max(1, len(result.findings)) + len(result.errors)),
        failures=str(len(result.findings)),
        errors=str(len(result.errors)),
        time=f"{result.seconds:.3f}",
    )
    for f in result.findings:
        # printable(): control characters in a path or an API field would make the XML not well-formed.
        case = ET.SubElement(suite, "testcase", classname=f"wvzscan.{f.source}", name=printable(f.location()))
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
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
