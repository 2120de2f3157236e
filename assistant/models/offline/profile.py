"""Risk-profile questions as people type them: "what's my risk profile", "I'm a cautious
investor", "take the risk questionnaire", and the questionnaire's answers in plain words
("10 years, I'd hold, growth, some experience"), also over several messages.

Answers are read per question from words that only that question's choices use, so one
message may answer any subset; what is still missing comes back as questions.
"""

from __future__ import annotations

import re

from tools.risk_profile import QUESTIONS, Experience, Goal, Horizon, LossTolerance, RiskLevel

ABOUT_PROFILE = re.compile(
    r"\b(risk[- ]?(?:profile|tolerance|appetite|questionnaire|quiz|assessment|level|"
    r"preferences?|capacity)|investor (?:profile|type)|(?:kind|type|sort) of investor|"
    r"profile questionnaire|my profile|questionnaire|risk quiz)\b",
    re.I,
)
LEVEL_WORDS = {
    RiskLevel.CONSERVATIVE: r"conservative|cautious|careful|risk[- ]averse|low[- ]risk|defensive|"
    r"safe|low",
    RiskLevel.MODERATE: r"moderate|balanced|medium(?:[- ]risk)?|middle(?: of the road)?|average|"
    r"neutral|medium",
    RiskLevel.AGGRESSIVE: r"aggressive|adventurous|risk[- ]taking|high[- ]risk|bold|risky|"
    r"speculative|risk[- ](?:tolerant|seeking|loving)|high",
}
_LEVEL = "|".join(LEVEL_WORDS.values())
STATED = re.compile(
    rf"\b(?:i'?m|i am|i'd say i'?m|consider me|treat me as|put me down as|(?:describe|consider|"
    rf"see|call) myself as|count me as)\s+(?:an?\s+|pretty\s+|very\s+|quite\s+|fairly\s+|"
    rf"rather\s+|more of an?\s+|moderately\s+)*(?:(?:{_LEVEL})(?:[- ]risk)?\s+(?:investor|"
    rf"person|type|saver|risk(?: taker)?|kind of (?:guy|gal|person|investor)|one|with (?:my )?"
    rf"money|when it comes to (?:money|investing|risk))|(?:conservative|risk[- ]averse|"
    rf"aggressive|risk[- ](?:tolerant|seeking|loving)|moderate(?:[- ]risk)?)\b(?!\s+\w+ing))|"
    rf"\b(?:set|change|update|switch|make|put)\b.{{0,25}}\b(?:profile|tolerance|appetite|"
    rf"level)\b.{{0,12}}\b(?:to|as|at)\s+(?:an?\s+)?(?:{_LEVEL})\b|"
    rf"\b(?:risk[- ]?(?:profile|tolerance|appetite|level))\s+(?:is|=|:|should be)\s+"
    rf"(?:an?\s+)?(?:{_LEVEL})\b",
    re.I,
)
"""A level said outright, "I'm a conservative investor", "set my risk profile to aggressive",
"my risk tolerance is low"."""
DISLIKES_RISK = re.compile(
    r"\bi (?:really )?(?:don'?t|do not) (?:like|want|enjoy|do|take) (?:much |a lot of |any )?risks?\b|"
    r"\bi (?:hate|avoid|can'?t (?:stand|stomach|handle|take)) (?:much |a lot of )?risks?\b|"
    r"\bi'?m not (?:a |much of a |big on |into )?(?:big )?risk[- ]?tak(?:er|ing)\b",
    re.I,
)
LIKES_RISK = re.compile(
    r"\bi (?:can|could) (?:handle|take|stomach|tolerate|live with) (?:a lot of|lots of|plenty of|"
    r"high|a high level of|significant|big) risks?\b|\bi (?:like|love|enjoy) (?:taking )?risks?\b|"
    r"\bi'?m (?:a |an )?risk[- ](?:taker|seeker|lover)\b",
    re.I,
)
CLEAR = re.compile(
    r"\b(?:delete|clear|remove|reset|forget|erase|wipe|drop)\b.{0,20}\b(?:risk[- ]?profile|"
    r"my profile|risk (?:tolerance|level|appetite)|questionnaire answers)\b",
    re.I,
)
AGAIN = re.compile(
    r"\b(?:actually|instead|rather|make (?:it|that|me)|change (?:it|that)|switch (?:it|that|me)|"
    r"on second thought|no,)\b",
    re.I,
)
"""Changing a level just set ("actually, make that aggressive")."""
START = re.compile(
    r"\b(set (?:up |me |my )|take|retake|start|restart|begin|do (?:the|a|my)|fill|update|change|"
    r"redo|again|assess|determine|figure out|work out|find out|questionnaire|quiz|questions)\b",
    re.I,
)
"""Asking to go through the questionnaire rather than to be told the profile."""

YEARS = re.compile(
    r"\b(?:in|within|for|about|around|over|after|next|under|less than|more than)?\s*"
    r"(\d{1,2}|a|an|one|two|three|five|ten|twenty|thirty)(?:\s*(?:-|to)\s*(\d{1,2}))?\+?\s*"
    r"(years?|yrs?|months?)\b",
    re.I,
)
WORD_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "five": 5,
    "ten": 10,
    "twenty": 20,
    "thirty": 30,
}
HORIZON_WORDS = [
    (Horizon.UNDER_1Y, r"short[- ]term|this year|next year|very soon|within (?:a|one) year"),
    (Horizon.OVER_10Y, r"long[- ]term|decades?|retire\w*|very long|for the long haul|forever"),
]
LOSS_WORDS = [
    (LossTolerance.SELL_ALL, r"sell (?:it )?(?:all|everything)|get out|cash out|panic|bail"),
    (LossTolerance.SELL_SOME, r"sell (?:some|part|a bit|a little|half)|trim|reduce"),
    (
        LossTolerance.BUY_MORE,
        r"buy (?:more|the dip)|add (?:more|to it)|buy in|double down|invest more",
    ),
    (
        LossTolerance.HOLD,
        r"\bhold|stay (?:put|invested|the course)|ride it out|do nothing|"
        r"wait|keep (?:it|them|holding|calm)|sit tight",
    ),
]
GOAL_WORDS = [
    (
        Goal.AGGRESSIVE_GROWTH,
        r"(?:aggressive|maximum|max|highest|fast|rapid|big|maximi[sz]e) growth|get rich|"
        r"big (?:gains|returns)|maximi[sz]e (?:returns|gains)",
    ),
    (
        Goal.PRESERVE,
        r"preserv\w*|protect\w*|keep what i have|safety|not lose|don'?t lose|capital "
        r"(?:preservation|protection)",
    ),
    (Goal.INCOME, r"income|dividends?|cash flow|pay(?:s|ing)? (?:me|the bills)"),
    (Goal.GROWTH, r"grow\w*|build wealth|appreciation|long[- ]term gains"),
]
EXPERIENCE_WORDS = [
    (
        Experience.PROFESSIONAL,
        r"professional|\bpro\b|work in finance|portfolio manager|i'?m a trader|for a living",
    ),
    (
        Experience.NONE,
        r"no experience|zero experience|not much experience|little experience|never invested|"
        r"beginner|new to (?:this|investing|stocks|the market)|first[- ]time|novice|"
        r"experience:? none",
    ),
    (
        Experience.EXPERIENCED,
        r"experienced|lots of experience|(?:many|several|\d{2}|[5-9]) years (?:of )?"
        r"(?:experience|investing|picking)|been investing for (?:many|years|a long time|"
        r"\d{2}|[5-9])|through (?:a |the )?(?:crash|downturn|bear market|2008)",
    ),
    (
        Experience.SOME,
        r"(?:some|a little|a bit of|limited|moderate) experience|intermediate|\bfunds\b|"
        r"\betfs?\b|index funds|\b[1-4] years? (?:of )?(?:experience|investing)|a few years "
        r"(?:of )?(?:experience|investing)",
    ),
]


def stated_level(text: str) -> RiskLevel | None:
    if DISLIKES_RISK.search(text):
        return RiskLevel.CONSERVATIVE
    if LIKES_RISK.search(text):
        return RiskLevel.AGGRESSIVE
    m = STATED.search(text)
    if m is None:
        return None
    return level_in(m[0])


def level_in(said: str) -> RiskLevel | None:
    """The level a phrase names; "moderately aggressive" reads moderate, "moderately
    conservative" conservative (the more cautious of the two)."""
    said = re.sub(r"\b(?:profile|tolerance|appetite|level)\b", "", said, flags=re.I)
    if re.search(r"\bmoderately\s+conservative\b", said, re.I):
        return RiskLevel.CONSERVATIVE
    if re.search(r"\bmoderately\s+(?:aggressive|high)\b", said, re.I):
        return RiskLevel.MODERATE
    for level, words in LEVEL_WORDS.items():
        if re.search(rf"\b(?:{words})\b", said, re.I) and not (
            level is RiskLevel.CONSERVATIVE
            and re.search(r"high[- ]risk|risk[- ]taking", said, re.I)
        ):
            return level
    return None


def _horizon(text: str) -> Horizon | None:
    m = next(
        (
            found
            for found in YEARS.finditer(text)
            if not re.search(r"(?:of )?(?:experience|investing|trading)", text[found.end() :][:20])
            and not re.search(
                r"(?:investing|trading|experience|been)\D{0,12}$", text[: found.start()]
            )
        ),
        None,
    )
    if m is None:  # no number of years: the words ("long term", "retirement")
        return next((v for v, pattern in HORIZON_WORDS if re.search(pattern, text, re.I)), None)
    first = m[1].lower()
    n = float(WORD_NUMBERS.get(first, first) if not first.isdigit() else first)
    if m[2]:
        n = float(m[2])
    if m[3].lower().startswith("month"):
        n /= 12
    if re.search(r"\b(?:over|more than|after)\b|\+", m[0], re.I):
        n += 0.5  # "over 10 years" is beyond ten
    if n < 1 or (n == 1 and re.search(r"\b(?:in|within|under|less than)\b", m[0], re.I)):
        return Horizon.UNDER_1Y
    if n <= 3:
        return Horizon.ONE_TO_3Y
    return Horizon.THREE_TO_10Y if n <= 10 else Horizon.OVER_10Y


def _first(text: str, table: list) -> str | None:
    for value, pattern in table:
        if re.search(rf"(?:{pattern})", text, re.I):
            return value.value
    return None


def _labels(text: str) -> dict[str, str]:
    """Answers given in the questionnaire's own words ("keeping what I have", "hold on"):
    labels of two words or more, anywhere in the text."""
    lowered = " ".join(text.lower().split())
    found = {}
    for q in QUESTIONS:
        for c in sorted(q.choices, key=lambda c: -len(c.label)):
            label = re.sub(r"\s*\(.*?\)", "", c.label.lower())
            if len(label.split()) >= 2 and re.search(rf"\b{re.escape(label)}\b", lowered):
                found[q.key] = c.value
                break
    return found


def read_answers(text: str) -> dict[str, str]:
    """The questionnaire's answers a message gives (any subset), by question key."""
    found = {
        "horizon": (h.value if (h := _horizon(text)) else None),
        "loss_tolerance": _first(text, LOSS_WORDS),
        "goal": _first(text, GOAL_WORDS),
        "experience": _first(text, EXPERIENCE_WORDS),
    }
    return _labels(text) | {k: v for k, v in found.items() if v is not None}


def _short_answers(text: str, missing: list[str]) -> dict[str, str]:
    """Inside a questionnaire: bare choices for the questions still open ("none", "some",
    "4, 3, 3, 2" by the choices' numbers, in the questions' order)."""
    pieces = [p for p in re.split(r"\s*[,;/]\s*|\s+and\s+|\s*\n\s*", text.strip().lower()) if p]
    pieces = [p.strip(" .!") for p in pieces]
    open_questions = [q for q in QUESTIONS if q.key in missing]
    if pieces and all(p.isdigit() for p in pieces) and len(pieces) == len(open_questions):
        out = {}
        for q, p in zip(open_questions, pieces, strict=True):
            if not 1 <= int(p) <= len(q.choices):
                return {}
            out[q.key] = q.choices[int(p) - 1].value
        return out
    out = {}
    for piece in pieces:
        for q in open_questions:
            if q.key in out:
                continue
            for c in q.choices:
                label = re.sub(r"\s*\(.*?\)", "", c.label.lower())
                if piece in (label, c.value.replace("_", " "), c.value):
                    out[q.key] = c.value
                    break
    return out


def read_profile(
    question: str, earlier: list[str], named_securities: bool
) -> tuple[str, dict] | None:
    """The profile call a message asks for, or None when it is no profile question.

    Answers may come over several messages: a message that only answers (no security
    named) continues a questionnaire the previous message started; three answers or
    more in one message are the questionnaire's even without one."""
    if named_securities:
        return None
    earlier = earlier[-6:]  # a questionnaire is a few messages long
    if CLEAR.search(question):
        return ("clear_risk_profile", {})
    answers = read_answers(question)
    level = stated_level(question)
    if level is not None and not answers:
        return ("set_risk_profile", {"level": level.value})
    if ABOUT_PROFILE.search(question):
        if answers:
            return ("set_risk_profile", _carried(earlier) | answers)
        if level is not None:
            return ("set_risk_profile", {"level": level.value})
        if START.search(question):
            return ("set_risk_profile", {})
        return ("get_risk_profile", {})
    if earlier and _in_questionnaire(earlier):
        carried = _carried(earlier)
        open_keys = [q.key for q in QUESTIONS if q.key not in carried | answers]
        answers |= _short_answers(question, open_keys)
        if answers:
            return ("set_risk_profile", carried | answers)
    if len(answers) >= 3:
        return ("set_risk_profile", answers)
    if earlier and AGAIN.search(question) and (again := level_in(question)) is not None:
        last = read_profile(earlier[-1], earlier[:-1], False)
        if last is not None and last[0] in ("set_risk_profile", "get_risk_profile"):
            return ("set_risk_profile", {"level": again.value})
    return None


def _in_questionnaire(earlier: list[str]) -> bool:
    """The previous message started or continued a questionnaire."""
    last = earlier[-1]
    call = read_profile(last, earlier[:-1], False)
    return call is not None and call[0] == "set_risk_profile" and "level" not in call[1]


def _carried(earlier: list[str]) -> dict[str, str]:
    """The answers given so far in the questionnaire the messages before continue."""
    carried: dict[str, str] = {}
    for i in range(len(earlier), 0, -1):
        if not _in_questionnaire(earlier[:i]):
            break
        carried = read_answers(earlier[i - 1]) | carried
    return carried
