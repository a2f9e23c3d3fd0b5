"""`expreview mcp`, driven by the MCP SDK's own client over stdio: the tools are listed with their
schemas, a fixture is reviewed, a variant is fixed (diff first, files written only on request)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, expreview_cmd

mcp = pytest.importorskip("mcp", reason="the MCP SDK is not installed (pip install 'expreview[mcp]')")
anyio = pytest.importorskip("anyio")


async def _session(calls):
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    command = expreview_cmd()
    params = StdioServerParameters(command=command[0], args=[*command[1:], "mcp"])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await calls(session)


def _structured(result):
    assert not result.is_error, result.content
    data = result.structured_content
    if data is None:  # older SDKs: the JSON is the text content
        data = json.loads(result.content[0].text)
    return data.get("result", data)


def test_tools_review_and_fix_over_stdio(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "base" / "good", repo)
    smoke = repo / "config" / "smoke_test.yaml"
    smoke.write_text(smoke.read_text().replace("learning_rate: 1.0e-3", "learning_rate: 1e-3"))

    async def calls(session):
        tools = (await session.list_tools()).tools
        good = await session.call_tool("review_directory", {"path": str(FIXTURES / "base" / "good"), "stage": "base"})
        broken = await session.call_tool("review_directory", {"path": str(repo), "stage": "base"})
        preview = await session.call_tool("fix_directory", {"path": str(repo), "stage": "base"})
        unchanged = smoke.read_text()
        applied = await session.call_tool("fix_directory", {"path": str(repo), "stage": "base", "apply": True})
        in_memory = await session.call_tool("fix_files", {"files": {"src/a.py": "x = 1\n"}, "stage": "base"})
        missing = await session.call_tool("review_directory", {"path": str(tmp_path / "nope")})
        return tools, good, broken, preview, unchanged, applied, in_memory, missing

    tools, good, broken, preview, unchanged, applied, in_memory, missing = anyio.run(_session, calls)
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"review_directory", "review_files", "fix_directory", "fix_files"}
    assert set(by_name["fix_directory"].input_schema["properties"]) == {"path", "stage", "unsafe", "apply"}
    assert by_name["review_files"].output_schema is not None
    assert _structured(good)["ready"] is True
    found = _structured(broken)
    assert found["ready"] is False and [f["code"] for f in found["report"]["findings"]] == ["CFG003"]
    diff = _structured(preview)
    assert "+      learning_rate: 1.0e-3" in diff["diff"] and diff["written"] is False
    assert "learning_rate: 1e-3" in unchanged  # the preview changed nothing
    done = _structured(applied)
    assert done["written"] is True and done["ready"] is True and "learning_rate: 1.0e-3" in smoke.read_text()
    assert _structured(in_memory)["changed"] == []
    assert missing.is_error and "no such file or directory" in missing.content[0].text


def test_mcp_without_the_sdk_is_one_line_and_exit_2(tmp_path):
    import subprocess

    blocker = tmp_path / "mcp"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('no sdk', name='mcp')\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run([sys.executable, "-m", "expreview", "mcp"], capture_output=True, text=True, env=env,
                          timeout=60, input="")
    assert proc.returncode == 2 and "pip install 'expreview[mcp]'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
