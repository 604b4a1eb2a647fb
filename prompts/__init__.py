"""Prompt templates as files, `prompts/<task>/v<N>.md`, and the evaluation set in `prompts/evals/`.
A package only so that a built wheel ships them; `core.llm.prompts` loads them."""
