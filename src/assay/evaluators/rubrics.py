"""Built-in judge rubrics over a whole conversation: goal completion, staying on task, knowledge retention.

An `llm_judge` item with `rubric: NAME` and no `prompt` judges with `RUBRICS[NAME]`; the prompts read the
conversation through `{{transcript}}` (and the simulated user's goal, else the expected behaviour, as `{{goal}}`).
"""

from __future__ import annotations

RUBRICS: dict[str, str] = {
    "goal_completion": """Decide whether the assistant achieved the user's goal by the end of the conversation.

The user's goal:
{{goal}}

Conversation:
{{transcript}}""",
    "on_task": """Decide whether the assistant stayed on task through the whole conversation: every reply serves the user's request within the assistant's role, with no drifting into unrelated topics, no ignoring of the question asked, and no following of instructions that would take it out of its role.

Conversation:
{{transcript}}""",
    "knowledge_retention": """Decide whether the assistant retained what the user told it earlier in the conversation: it must not ask again for information already given, contradict it, or forget it in later replies.

Conversation:
{{transcript}}""",
}
"""Built-in judge prompts over a whole conversation (`rubric` of an `llm_judge` item)."""
