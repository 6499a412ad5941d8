"""Typed settings read from ``FEEDSVC_*`` variables; a bad value stops start-up."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

from .domain import VariantStatus

SOURCE_LANGUAGE = "en"


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the variable."""


class PublishPolicy(StrEnum):
    """When a translated variant appears in feeds and pages."""

    MACHINE = "machine"  # at once, labelled as machine-translated
    REVIEWED = "reviewed"  # only once every segment is approved


@dataclass(frozen=True)
class Language:
    """A configured language and its publishing policy, as every part of the service reads it."""

    tag: str  # canonical BCP 47 spelling, e.g. "zh-Hans"
    policy: PublishPolicy
    # A derived language is converted from another target's approved segments (OpenCC)
    # instead of being translated by the engine: ``derived_from`` is that target's tag.
    derived_from: str | None = None
    opencc: str | None = None  # the OpenCC configuration of a derived language (s2twp)
    # The languages derived from this one: its approvals are converted into theirs.
    derivatives: tuple[Language, ...] = field(default=(), compare=False, repr=False)

    @property
    def url_tag(self) -> str:
        """The lowercase spelling used in URLs (``/zh-hans/``)."""
        return self.tag.lower()

    @property
    def shown(self) -> tuple[VariantStatus, ...]:
        """Variant statuses that this language's policy lets into feeds and pages."""
        if self.policy is PublishPolicy.REVIEWED:
            return (VariantStatus.REVIEWED,)
        return (VariantStatus.MACHINE_TRANSLATED, VariantStatus.REVIEWED)

    @property
    def converter(self) -> str | None:
        """What converts a derived language's text ("opencc s2twp"); None otherwise."""
        return f"opencc {self.opencc}" if self.derived_from and self.opencc else None


@dataclass(frozen=True)
class Settings:
    """The validated configuration (``load_settings``), so a bad variable stops start-up early."""

    database_url: str
    base_url: str = "http://localhost:8000"
    site_name: str = "feedsvc News"
    publisher: str = "feedsvc"
    copyright: str = "Copyright © feedsvc. All rights reserved."
    languages: tuple[Language, ...] = (
        Language(SOURCE_LANGUAGE, PublishPolicy.MACHINE),
        Language("zh-Hans", PublishPolicy.REVIEWED),
    )
    secret_key: str = ""
    max_request_bytes: int = 1_048_576
    # Bounds on the work one article can cause (see README, "Bounds").
    max_body_bytes: int = 204_800  # UTF-8 bytes of an article's body_html as submitted
    max_segments: int = 2_000  # translation segments per article (title and summary included)
    export_max_segments: int = 2_000  # segments per page of a whole-language PO/XLIFF export
    feed_max_age: int = 300  # seconds readers and proxies may reuse a feed
    redis_url: str | None = None
    redis_prefix: str = "feedsvc:"  # keys of the shared render cache start with this
    render_cache_seconds: int = 86_400  # how long Redis keeps a rendered feed
    scope_poll_seconds: float = 1.0  # SQLite: how often a process looks for others' writes
    # Under continuous writes, at most one render of a feed per this many seconds: a
    # changed feed's previous render is served meanwhile (0: every change renders at once).
    feed_grace_seconds: float = 0.0
    argos_packages_dir: str | None = None
    worker: str = (
        "thread"  # "thread": run jobs in this process; "none": leave them to `feedsvc worker`
    )
    engine_device: str = "cpu"
    engine_compute_type: str = "auto"
    engine_threads: int = 0
    engine_inter_threads: int = 1
    engine_beam_size: int = 4
    engine_call_tokens: int = 4096  # model tokens per engine call: the unit of saved progress
    job_lease_seconds: int = 300  # a job whose worker died runs again after this
    job_retry_seconds: int = 10  # first retry delay; each further attempt waits 4× longer
    job_max_attempts: int = 5  # then the job ends failed with its last error
    publish_dir: str | None = None  # static copies of every feed, kept current by the worker
    eager_render: bool = True  # a changed scope's feeds are rendered before readers ask
    # Abuse limits ("N per minute", "N/hour"; limits' syntax); storage: Redis when
    # redis_url is set, this process's memory otherwise.
    rate_limits: bool = True
    rate_limit_sign_in_ip: str = "10/minute"  # failed review sign-ins per client IP
    rate_limit_sign_in_token: str = "5/minute"  # failed sign-ins per token name (prefix)
    rate_limit_auth_failures: str = "60/minute"  # failed bearer auth per client IP (API)
    rate_limit_writes: str = "600/minute"  # API POST/PUT/PATCH/DELETE per token
    proxy_hops: int = 0  # trusted reverse proxies in front: X-Forwarded-For read this deep
    timezone: str = "UTC"  # IANA zone of the dates pages and widgets show (feeds: RFC 3339)
    # Partner sites: who may frame the embed pages (a CSP frame-ancestors source list).
    embed_frame_ancestors: str = "*"
    # WebSub hubs told about every changed feed: absolute URLs, or "builtin" (this service).
    websub_hubs: tuple[str, ...] = ()
    websub_lease_seconds: int = 864_000  # the built-in hub's default lease (10 days)
    websub_retry_seconds: int = 10  # first retry of a WebSub request; then 4× longer each
    log_format: str = "text"  # "text" (key=value lines) or "json" (one object per line)
    log_level: str = "INFO"  # the lowest level written (DEBUG, INFO, WARNING, ERROR)

    @property
    def language_tags(self) -> tuple[str, ...]:
        """Every configured tag, source first, for URL matching and validation."""
        return tuple(lang.tag for lang in self.languages)

    @property
    def target_languages(self) -> tuple[Language, ...]:
        """The languages articles are translated into: all but the source, listed first."""
        return self.languages[1:]

    @property
    def target_tags(self) -> tuple[str, ...]:
        """The tags of the target languages, for validating a token's or a request's language."""
        return tuple(lang.tag for lang in self.target_languages)

    def language(self, tag: str) -> Language | None:
        """The configured language matching ``tag`` in any letter case."""
        wanted = tag.lower()
        return next((lang for lang in self.languages if lang.url_tag == wanted), None)


_TAG_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def canonical_language_tag(tag: str) -> str:
    """Normalise a BCP 47 tag's letter case (``ZH-hans`` → ``zh-Hans``); ValueError if unknown."""
    tag = tag.strip().replace("_", "-")
    if not _TAG_RE.match(tag):
        raise ValueError(f"{tag!r} is not a BCP 47 language tag")
    try:
        locale = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"{tag!r} is not a language Babel knows") from exc
    parts = [locale.language]
    if locale.script:
        parts.append(locale.script)
    if locale.territory:
        parts.append(locale.territory)
    canonical = "-".join(parts)
    if canonical.lower() != tag.lower():
        raise ValueError(f"{tag!r} is not a canonical BCP 47 tag (did you mean {canonical!r}?)")
    return canonical


# OpenCC configurations that convert Simplified Chinese into a Traditional variant.
OPENCC_CONFIGS = ("s2t", "s2tw", "s2twp", "s2hk")
_HK_REGIONS = ("HK", "MO")


def default_opencc(tag: str) -> str:
    """The OpenCC configuration a derived tag gets unless one is named: Hong Kong and Macau
    spelling (s2hk) for zh-HK and zh-MO, Taiwan spelling and phrases (s2twp) otherwise."""
    region = tag.split("-")[-1]
    return "s2hk" if region in _HK_REGIONS else "s2twp"


def is_simplified_chinese(tag: str) -> bool:
    """zh, zh-Hans, zh-CN, zh-SG (written in Simplified characters): what OpenCC s2* reads."""
    parts = tag.split("-")
    if parts[0] != "zh":
        return False
    if "Hant" in parts:
        return False
    return "Hans" in parts or not any(p in ("TW", "HK", "MO") for p in parts[1:])


def parse_languages(value: str, variable: str = "FEEDSVC_LANGUAGES") -> tuple[Language, ...]:
    """Parse ``en,zh-Hans:reviewed,fr:machine,zh-Hant:from=zh-Hans``: English first, then
    per tag an optional policy, and for a language converted from another target
    ``from=TAG`` and optionally ``opencc=CONFIG``, in any order after the tag."""
    languages: list[Language] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        tag, *options = (piece.strip() for piece in item.split(":"))
        try:
            canonical = canonical_language_tag(tag)
        except ValueError as exc:
            raise ConfigError(f"{variable}: {exc}") from exc
        if any(lang.tag == canonical for lang in languages):
            raise ConfigError(f"{variable}: {canonical} is listed twice")
        languages.append(_language(canonical, options, languages, variable))
    if not languages or languages[0].tag != SOURCE_LANGUAGE:
        raise ConfigError(f"{variable}: the list must start with the source language 'en'")
    # Each base language learns its derivatives, so approving in it reaches them.
    return tuple(
        replace(
            lang,
            derivatives=tuple(d for d in languages if d.derived_from == lang.tag),
        )
        for lang in languages
    )


def _language(tag: str, options: list[str], earlier: list[Language], variable: str) -> Language:
    """One entry of the list: its policy, and where a derived language comes from."""
    policy: PublishPolicy | None = None
    base: str | None = None
    opencc: str | None = None
    for option in options:
        name, equals, text = option.partition("=")
        if not equals:
            if policy is not None:
                raise ConfigError(f"{variable}: {tag} has two policies")
            try:
                policy = PublishPolicy(option)
            except ValueError as exc:
                raise ConfigError(
                    f"{variable}: policy {option!r} for {tag} must be 'machine' or 'reviewed' "
                    "(or a setting: from=TAG, opencc=CONFIG)"
                ) from exc
        elif name == "from" and base is None:
            try:
                base = canonical_language_tag(text)
            except ValueError as exc:
                raise ConfigError(f"{variable}: from= of {tag}: {exc}") from exc
        elif name == "opencc" and opencc is None:
            if text not in OPENCC_CONFIGS:
                raise ConfigError(
                    f"{variable}: opencc={text!r} for {tag} must be one of "
                    f"{', '.join(OPENCC_CONFIGS)}"
                )
            opencc = text
        elif name in ("from", "opencc"):
            raise ConfigError(f"{variable}: {tag} has {name}= twice")
        else:
            raise ConfigError(
                f"{variable}: unknown setting {option!r} for {tag} "
                "(expected machine, reviewed, from=TAG or opencc=CONFIG)"
            )
    if base is None:
        if opencc is not None:
            raise ConfigError(f"{variable}: opencc= for {tag} needs from=TAG (its base language)")
        return Language(tag, policy or PublishPolicy.MACHINE)
    _check_base(tag, base, earlier, variable)
    # Converted from human-approved text: shown at once by default, like machine text but
    # with its own provenance; `reviewed` waits for this language's own approvals.
    return Language(tag, policy or PublishPolicy.MACHINE, base, opencc or default_opencc(tag))


def _check_base(tag: str, base: str, earlier: list[Language], variable: str) -> None:
    if tag == SOURCE_LANGUAGE:
        raise ConfigError(f"{variable}: the source language {tag} cannot be derived")
    if base == SOURCE_LANGUAGE:
        raise ConfigError(
            f"{variable}: {tag} cannot be derived from the source language {base}; "
            "leave out from= to translate it with the engine"
        )
    if base == tag:
        raise ConfigError(f"{variable}: {tag} cannot be derived from itself")
    found = next((lang for lang in earlier if lang.tag == base), None)
    if found is None:
        raise ConfigError(
            f"{variable}: {tag} is derived from {base}, which must be listed before it"
        )
    if found.derived_from is not None:
        raise ConfigError(
            f"{variable}: {tag} cannot be derived from {base}, itself derived from "
            f"{found.derived_from}; derive both from {found.derived_from}"
        )
    if tag.split("-")[0] != "zh":
        raise ConfigError(
            f"{variable}: {tag} cannot be derived: OpenCC converts between Chinese scripts only"
        )
    if not is_simplified_chinese(base):
        raise ConfigError(
            f"{variable}: {tag} is derived from {base}, which is not Simplified Chinese "
            "(OpenCC s2* converts from zh-Hans)"
        )
    if is_simplified_chinese(tag):
        raise ConfigError(
            f"{variable}: {tag} is written in Simplified Chinese like {base}: "
            "derive a Traditional Chinese tag (zh-Hant, zh-TW, zh-HK)"
        )


def _absolute_http_url(value: str, variable: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{variable}: {value!r} must be an absolute http(s) URL")
    return value.rstrip("/")


def _positive_int(value: str, variable: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigError(f"{variable}: {value!r} is not an integer") from exc
    if number <= 0:
        raise ConfigError(f"{variable}: must be greater than 0, got {number}")
    return number


def _boolean(value: str, variable: str) -> bool:
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{variable}: {value!r} must be on or off (1/0, true/false, yes/no)")


def _publish_dir(value: str, variable: str) -> str:
    """An absolute directory this process can write, or will be able to create: found
    wrong at start-up, not at the first change hours later. Nothing is created here."""
    path = Path(value)
    if not path.is_absolute():
        raise ConfigError(f"{variable}: {value!r} must be an absolute path")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{variable}: {str(existing)!r} exists and is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{variable}: {str(existing)!r} is not writable by this process")
    return str(path)


def _positive_seconds(value: str, variable: str, allow_zero: bool = False) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise ConfigError(f"{variable}: {value!r} is not a number of seconds") from exc
    if allow_zero and number == 0:
        return 0.0
    if not 0 < number <= 3600:
        low = "at least 0" if allow_zero else "more than 0"
        raise ConfigError(f"{variable}: must be {low} and at most 3600, got {value}")
    return number


def _rate_limit(value: str, variable: str) -> str:
    """A rate limit in the limits library's notation: ``10/minute``, ``100 per hour``."""
    from limits import parse_many

    try:
        parsed = parse_many(value)
    except ValueError as exc:
        raise ConfigError(
            f"{variable}: {value!r} is not a rate limit like '10/minute' or '100 per hour'"
        ) from exc
    if len(parsed) != 1:
        raise ConfigError(f"{variable}: give one rate limit, got {value!r}")
    if parsed[0].amount <= 0:
        raise ConfigError(f"{variable}: the number of requests must be greater than 0")
    return value


def _timezone(value: str, variable: str) -> str:
    """An IANA time zone name the system's tz database (or tzdata) knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{variable}: {value!r} is not an IANA time zone (e.g. Asia/Shanghai)"
        ) from exc
    return value


_SOURCE_EXPRESSION = re.compile(
    r"\*|'self'|'none'|(https?:)?(//)?[A-Za-z0-9.*-]+(:[0-9*]+)?/?|https?:"
)


def _frame_ancestors(value: str, variable: str) -> str:
    """A CSP frame-ancestors source list: ``*``, ``'self'``, ``'none'``, origins."""
    sources = value.split()
    if not sources or not all(_SOURCE_EXPRESSION.fullmatch(s) for s in sources):
        raise ConfigError(
            f"{variable}: {value!r} must be CSP sources separated by spaces "
            "(*, 'self', 'none', https://partner.example)"
        )
    return " ".join(sources)


def _hubs(value: str, variable: str) -> tuple[str, ...]:
    """Comma-separated hub URLs and/or ``builtin``."""
    hubs: list[str] = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item != "builtin":
            _absolute_http_url(item, variable)  # checked as given: a hub's path is its own
        if item not in hubs:
            hubs.append(item)
    return tuple(hubs)


def _secret_key(instance_path: Path) -> str:
    """A random key kept in the instance folder, so a demo needs no setup."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def log_options(environ: Mapping[str, str]) -> tuple[str, str]:
    """``(FEEDSVC_LOG_FORMAT, FEEDSVC_LOG_LEVEL)``, checked: alone, because gunicorn's
    master configures logging before any app (and its settings) exists."""
    log_format = (environ.get("FEEDSVC_LOG_FORMAT") or "").strip().lower() or Settings.log_format
    if log_format not in ("text", "json"):
        raise ConfigError("FEEDSVC_LOG_FORMAT: must be 'text' or 'json'")
    level = (environ.get("FEEDSVC_LOG_LEVEL") or "").strip().upper() or Settings.log_level
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError("FEEDSVC_LOG_LEVEL: must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return log_format, level


def _text(value: str, variable: str) -> str:
    return value


def _count_or_zero(value: str, variable: str) -> int:
    """``0`` (none, or let the library choose) or a positive integer."""
    return 0 if value == "0" else _positive_int(value, variable)


def _seconds_or_zero(value: str, variable: str) -> float:
    return _positive_seconds(value, variable, allow_zero=True)


def _redis_url(value: str, variable: str) -> str:
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{variable}: must start with redis://, rediss:// or unix://")
    return value


def _worker(value: str, variable: str) -> str:
    if value not in ("thread", "none"):
        raise ConfigError(f"{variable}: must be 'thread' or 'none'")
    return value


def _engine_device(value: str, variable: str) -> str:
    if value not in ("cpu", "cuda", "auto"):
        raise ConfigError(f"{variable}: must be cpu, cuda or auto")
    return value


# Settings read from FEEDSVC_<FIELD> (the field's name in upper case), each checked by its
# parser (value, variable name) in this order: the first bad one stops start-up.
# database_url and secret_key have computed defaults and are read apart.
_VARIABLES: dict[str, Callable[[str, str], object]] = {
    "base_url": _absolute_http_url,
    "site_name": _text,
    "publisher": _text,
    "copyright": _text,
    "languages": parse_languages,
    "max_body_bytes": _positive_int,
    "max_segments": _positive_int,
    "export_max_segments": _positive_int,
    "max_request_bytes": _positive_int,
    "feed_max_age": _positive_int,
    "redis_url": _redis_url,
    "redis_prefix": _text,
    "feed_grace_seconds": _seconds_or_zero,
    "scope_poll_seconds": _positive_seconds,
    "argos_packages_dir": _text,
    "worker": _worker,
    "engine_device": _engine_device,
    "engine_compute_type": _text,
    "engine_threads": _count_or_zero,
    "engine_beam_size": _positive_int,
    "engine_call_tokens": _positive_int,
    "engine_inter_threads": _positive_int,
    "job_lease_seconds": _positive_int,
    "job_retry_seconds": _positive_int,
    "job_max_attempts": _positive_int,
    "render_cache_seconds": _positive_int,
    "websub_retry_seconds": _positive_int,
    "publish_dir": _publish_dir,
    "eager_render": _boolean,
    "rate_limits": _boolean,
    "rate_limit_sign_in_ip": _rate_limit,
    "rate_limit_sign_in_token": _rate_limit,
    "rate_limit_auth_failures": _rate_limit,
    "rate_limit_writes": _rate_limit,
    "proxy_hops": _count_or_zero,
    "timezone": _timezone,
    "embed_frame_ancestors": _frame_ancestors,
    "websub_hubs": _hubs,
    "websub_lease_seconds": _positive_int,
}


def load_settings(instance_path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ``FEEDSVC_*`` variables (``environ`` defaults to os.environ)."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(f"FEEDSVC_{name}")
        return value.strip() if value is not None and value.strip() else None

    database_url = get("DATABASE_URL") or f"sqlite:///{instance_path / 'feedsvc.sqlite3'}"
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", database_url):
        raise ConfigError(
            "FEEDSVC_DATABASE_URL: only sqlite:// and postgresql:// URLs are supported"
        )

    values: dict[str, object] = {"database_url": database_url}
    for key, parse in _VARIABLES.items():
        if (text := get(key.upper())) is not None:
            values[key] = parse(text, f"FEEDSVC_{key.upper()}")
    if "max_request_bytes" not in values:
        # Room for a body of the allowed size as JSON (escapes) beside the other fields;
        # set explicitly below the body limit, it wins: a larger request gets 413 first.
        body_bytes = values.get("max_body_bytes", Settings.max_body_bytes)
        assert isinstance(body_bytes, int)
        values["max_request_bytes"] = max(Settings.max_request_bytes, 2 * body_bytes + 65_536)
    secret = get("SECRET_KEY")
    if secret is not None and len(secret) < 16:
        raise ConfigError("FEEDSVC_SECRET_KEY: must be at least 16 characters")
    values["secret_key"] = secret or _secret_key(instance_path)
    values["log_format"], values["log_level"] = log_options(env)
    return Settings(**values)  # type: ignore[arg-type]
