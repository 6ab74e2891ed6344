"""Drives `signoff mcp` with the official MCP Python SDK (`mcp` on PyPI), for tests/mcp_clients.rs.

Usage: client.py SCENARIO JSON_ARGS

The signoff binary, broker URL and agent token come from the environment (SIGNOFF_BIN,
SIGNOFF_BROKER_URL, SIGNOFF_AGENT_TOKEN, SIGNOFF_AGENT_ID, SIGNOFF_ENV). Every line this script
prints on stdout is one JSON object: {"event": ..., ...}. The Rust test plays the approver on the
broker's feed and, where a scenario needs it, tells this script what to do next with one line on
its stdin. Nothing here approves anything: the MCP server offers no such tool.
"""

import json
import os
import sys
from typing import Any, Literal

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.extension import ClientExtension, ResultClaim
from mcp_types import Request, RequestParams, Result
from pydantic import ConfigDict, Field, TypeAdapter

TASKS = "io.modelcontextprotocol/tasks"


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def read_line() -> str:
    return (await anyio.to_thread.run_sync(sys.stdin.readline)).strip()


def server() -> StdioServerParameters:
    env = {
        k: os.environ[k]
        for k in ("SIGNOFF_BROKER_URL", "SIGNOFF_AGENT_TOKEN", "SIGNOFF_AGENT_ID", "SIGNOFF_ENV")
        if k in os.environ
    }
    return StdioServerParameters(command=os.environ["SIGNOFF_BIN"], args=["mcp"], env=env)


def result_json(r: Any) -> dict[str, Any]:
    texts = [c.text for c in r.content if getattr(c, "type", None) == "text"]
    return {"is_error": bool(r.is_error), "structured": r.structured_content, "texts": texts}


class CreateTaskResult(Result):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    result_type: Literal["task"] = Field(alias="resultType")
    task_id: str = Field(alias="taskId")
    status: str


class TaskParams(RequestParams):
    task_id: str = Field(alias="taskId")


class TasksGet(Request[TaskParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    name_param = "taskId"


class TasksCancel(Request[TaskParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    name_param = "taskId"


async def _no_resolve(result: CreateTaskResult, ctx: Any) -> Any:
    raise RuntimeError("this test drives tasks/get and tasks/cancel itself")


class Tasks(ClientExtension):
    """The tasks extension (SEP-2663), as far as a client needs it: claim the `task` result."""

    identifier = TASKS

    def claims(self):
        return [ResultClaim(result_type="task", model=CreateTaskResult, resolve=_no_resolve)]


ANY = TypeAdapter(dict[str, Any])


async def task_request(session: Any, req: Request) -> dict[str, Any]:
    return await session.send_request(req, ANY)


async def list_tools(args: dict[str, Any]) -> None:
    # Over Streamable HTTP when the test gives a URL, else stdio.
    async with Client(args.get("url") or server()) as client:
        tools = await client.list_tools()
        emit(
            "tools",
            protocol=client.protocol_version,
            tools=[t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in tools.tools],
        )
        if args.get("status_of"):
            r = await client.call_tool("approval_status", {"id": args["status_of"]})
            emit("status", result=result_json(r))


async def request(args: dict[str, Any]) -> None:
    """request_approval, then (when pending and asked to) wait_for_decision until final."""
    progress: list[dict[str, Any]] = []

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        progress.append({"progress": p, "total": total, "message": message})

    async with Client(server()) as client:
        emit("connected", protocol=client.protocol_version)
        r = await client.call_tool("request_approval", args["call"], progress_callback=on_progress)
        first = result_json(r)
        emit("result", result=first, progress=progress)
        waits = args.get("then_wait", 0)
        while waits > 0 and first["structured"] and first["structured"]["status"] == "pending":
            waits -= 1
            r = await client.call_tool(
                "wait_for_decision",
                {"id": first["structured"]["id"], "wait_seconds": args.get("wait_seconds", 50)},
                progress_callback=on_progress,
            )
            first = result_json(r)
            emit("result", result=first, progress=progress)
        if args.get("run"):
            for call in args["run"]:
                r = await client.call_tool("run_approved", {"id": first["structured"]["id"], **call})
                emit("run", result=result_json(r))
        if args.get("status"):
            r = await client.call_tool("approval_status", {"id": first["structured"]["id"]})
            emit("status", result=result_json(r))


async def cancel(args: dict[str, Any]) -> None:
    """request_approval, cancelled by the caller when the test says so (notifications/cancelled)."""
    async with Client(server()) as client:
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                await client.call_tool("request_approval", args["call"])
                emit("unexpected", what="the cancelled call returned")

            tg.start_soon(call)
            emit("calling")
            action_id = await read_line()
            tg.cancel_scope.cancel()
        emit("cancelled")
        r = await client.call_tool("wait_for_decision", {"id": action_id, "wait_seconds": 30})
        emit("after", result=result_json(r))


async def task(args: dict[str, Any]) -> None:
    """request_approval as a task; tasks/get while working; then cancel or wait per the test."""
    async with Client(server(), extensions=[Tasks()]) as client:
        created = await client.session.call_tool("request_approval", args["call"], allow_claimed=True)
        if not isinstance(created, CreateTaskResult):
            emit("not_a_task", result=created.model_dump(by_alias=True, mode="json"))
            return
        got = await task_request(client.session, TasksGet(params=TaskParams(taskId=created.task_id)))
        emit("task", created={"taskId": created.task_id, "status": created.status}, got=got)
        command = await read_line()
        if command == "cancel":
            await task_request(client.session, TasksCancel(params=TaskParams(taskId=created.task_id)))
        with anyio.fail_after(60):
            while True:
                got = await task_request(client.session, TasksGet(params=TaskParams(taskId=created.task_id)))
                if got["status"] not in ("working", "input_required"):
                    break
                await anyio.sleep((got.get("pollIntervalMs") or 1000) / 1000)
        emit("final", got=got)


async def disconnect(args: dict[str, Any]) -> None:
    """request_approval, then vanish without a goodbye when the test says so."""
    async with Client(server()) as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, "request_approval", args["call"])
            emit("calling", server_pids=children())
            await read_line()
            os._exit(0)


def children() -> list[int]:
    """This process's child pids (the signoff mcp server), from /proc."""
    pids: list[int] = []
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        try:
            with open(f"/proc/{os.getpid()}/task/{tid}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return pids


SCENARIOS = {
    "list_tools": list_tools,
    "request": request,
    "cancel": cancel,
    "task": task,
    "disconnect": disconnect,
}

if __name__ == "__main__":
    scenario = SCENARIOS[sys.argv[1]]
    anyio.run(scenario, json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
