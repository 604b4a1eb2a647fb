"""The HTTP answer to a Slack request goes out the moment its listener acknowledges.

Bolt's asyncio runner (with `process_before_response=False`, as here) starts each listener as a task and
then looks every 10 ms whether it has acknowledged yet. An ack given after an await, like the answer
form's, which first commits the answers, waited for the next look: up to 10 ms more on every such
request, and under load most of the difference to a bare Bolt app (benchmarks/ack_latency.py). This
runner waits for the ack itself. The rest is Bolt's: events acknowledged before their listener runs,
the error handler, the ack timeout, and the listener going on after its answer was sent.
"""

from __future__ import annotations

import asyncio

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener import AsyncListener
from slack_bolt.listener.asyncio_runner import AsyncioListenerRunner
from slack_bolt.logger.messages import warning_did_not_call_ack
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse


class _Ack(AsyncAck):
    """Bolt's ack, which also says when it was given."""

    def __init__(self):
        super().__init__()
        self.given = asyncio.Event()

    async def __call__(self, *args, **kwargs) -> BoltResponse:
        try:
            return await super().__call__(*args, **kwargs)
        finally:
            self.given.set()


class AnswerAtAck(AsyncioListenerRunner):
    async def run(self, request: AsyncBoltRequest, response: BoltResponse, listener_name: str,
                  listener: AsyncListener, starting_time: float | None = None) -> BoltResponse | None:
        if self.process_before_response or request.lazy_only or listener.lazy_functions:
            return await super().run(request, response, listener_name, listener, starting_time)
        ack = request.context["ack"] = _Ack()  # nothing before the listener acks (Bolt's own checks answer)
        if listener.auto_acknowledgement:  # events
            await ack()
        work = asyncio.ensure_future(self._listen(ack, request, response, listener))
        given = asyncio.ensure_future(ack.given.wait())
        await asyncio.wait((work, given), timeout=listener.ack_timeout, return_when=asyncio.FIRST_COMPLETED)
        given.cancel()
        if ack.response is None:
            self.logger.warning(warning_did_not_call_ack(listener_name))
        return ack.response

    async def _listen(self, ack: _Ack, request: AsyncBoltRequest, response: BoltResponse | None,
                      listener: AsyncListener) -> None:
        """The listener, as Bolt runs it: a failure before the ack answers 500 through the error handler."""
        try:
            await self.listener_start_handler.handle(request=request, response=response)
            await listener.run_ack_function(request=request, response=response)
        except Exception as error:  # noqa: BLE001 - Bolt's error handler decides what is said and logged
            if response is None:
                response = BoltResponse(status=500)
            response.status = 500
            if ack.response is not None:  # already answered
                response = None
            await self.listener_error_handler.handle(error=error, request=request, response=response)
            if ack.response is None:
                ack.response = response
        finally:
            await self.listener_completion_handler.handle(request=request, response=response)


def answer_at_ack(app: AsyncApp) -> None:
    """Replace the app's listener runner with `AnswerAtAck`, keeping its handlers."""
    bolt = app.listener_runner
    app._async_listener_runner = AnswerAtAck(  # Bolt has no public setter for its runner
        logger=bolt.logger, process_before_response=bolt.process_before_response,
        listener_error_handler=bolt.listener_error_handler, listener_start_handler=bolt.listener_start_handler,
        listener_completion_handler=bolt.listener_completion_handler, lazy_listener_runner=bolt.lazy_listener_runner)
