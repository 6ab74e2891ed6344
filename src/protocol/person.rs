//! One person, however they are spelled: the identity every vote, quorum and
//! self-approval check compares.
//!
//! An approver arrives with a token (an OIDC issuer and subject, maybe an email); an agent
//! names the requester and the human it acts for with free text. [`PersonKey`] reduces both
//! to one comparable form:
//!
//! - text is NFKC-normalised and Unicode case-folded (`ＡＬＩＣＥ`, `Alice` → `alice`);
//! - an email address is reduced to its canonical form: `mailto:` and `Name <addr>` give
//!   the address, the domain loses a trailing dot, a `+tag` sub-address is dropped;
//! - a subject that is itself an email address counts as that email too.
//!
//! Two keys are the same person when their emails match, or their subjects match under the
//! same issuer (a claimed identifier, which has no issuer, matches a subject under any
//! issuer). For self-approval, an identifier *confusable* with the approver's (equal
//! Unicode TR39 skeletons, also after dropping combining marks) counts as the approver too.
//!
//! [`check_identifier`] is the intake grammar for identity fields an agent sends: an email
//! address (optionally as `mailto:addr` or `Display Name <addr>`) or a subject token, with
//! no surrounding whitespace and no control, format or default-ignorable characters.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

/// The longest identifier accepted, in bytes.
pub const MAX_IDENTIFIER: usize = 320;

/// One person as the broker compares them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonKey {
    /// The token issuer (`static` for the broker's static tokens); absent for an identifier
    /// an agent typed, which names a person without saying who vouches for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The subject, folded.
    pub subject: String,
    /// The canonical email, when the person has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The issuer recorded for the broker's static tokens.
pub const STATIC_ISSUER: &str = "static";

impl PersonKey {
    /// The key of an authenticated person: issuer, subject and (verified) email.
    pub fn authenticated(issuer: &str, subject: &str, email: Option<&str>) -> Self {
        let email = email
            .and_then(canonical_email)
            .or_else(|| canonical_email(subject));
        Self {
            issuer: Some(issuer.trim_end_matches('/').to_string()),
            subject: fold(subject),
            email,
        }
    }

    /// The key of an identifier an agent supplied (`requester.id`, `on_behalf_of`).
    pub fn claimed(identifier: &str) -> Self {
        let reduced = reduce(identifier.trim());
        Self {
            issuer: None,
            subject: fold(reduced),
            email: canonical_email(reduced),
        }
    }

    /// The key of an identity whose issuer is not known here (the console's own identity
    /// from the broker's welcome): it compares like a claimed identifier.
    pub fn of_identity(subject: &str, email: Option<&str>) -> Self {
        Self {
            issuer: None,
            subject: fold(subject),
            email: email
                .and_then(canonical_email)
                .or_else(|| canonical_email(subject)),
        }
    }

    /// The key of a vote recorded before votes carried one: its approver subject only.
    pub fn legacy_subject(subject: &str) -> Self {
        Self::claimed(subject)
    }

    /// True when both keys name the same person (see the module docs).
    pub fn same_person(&self, other: &PersonKey) -> bool {
        if let (Some(a), Some(b)) = (&self.email, &other.email)
            && a == b
        {
            return true;
        }
        let issuers_agree = match (&self.issuer, &other.issuer) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        issuers_agree && self.subject == other.subject
    }

    /// True when one of this key's identifiers looks like one of `other`'s: equal TR39
    /// skeletons, also with combining marks removed. Only for refusing self-approval:
    /// a false match refuses a vote, it never lets one through.
    pub fn confusable_with(&self, other: &PersonKey) -> bool {
        let mine = self.spellings();
        other
            .spellings()
            .iter()
            .any(|t| mine.iter().any(|m| looks_alike(m, t)))
    }

    /// Same person, or confusable with them.
    pub fn matches_or_confusable(&self, other: &PersonKey) -> bool {
        self.same_person(other) || self.confusable_with(other)
    }

    /// The identifiers to compare for look-alikes: the subject and the email's local part
    /// and whole address.
    fn spellings(&self) -> Vec<&str> {
        let mut v = vec![self.subject.as_str()];
        if let Some(e) = &self.email {
            v.push(e.as_str());
            if let Some((local, _)) = e.rsplit_once('@') {
                v.push(local);
            }
        }
        v
    }

    /// A short label for messages and the console: the email when known, else the subject.
    pub fn label(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.subject)
    }
}

/// How an action names the approver as its own requester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfRequest {
    /// `requester.id` or `requester.on_behalf_of`.
    pub field: &'static str,
    /// The identifier as the action gives it.
    pub text: String,
    /// Not the same person by key, but a look-alike (TR39 skeleton).
    pub confusable: bool,
}

/// The one self-approval check, used by the broker (to refuse) and the console (to warn):
/// does the action's requester or the person it acts for name `me`, however spelled?
pub fn self_request(
    me: &PersonKey,
    requester_id: &str,
    on_behalf_of: Option<&str>,
) -> Option<SelfRequest> {
    let mut named = vec![("requester.id", requester_id)];
    if let Some(o) = on_behalf_of {
        named.push(("requester.on_behalf_of", o));
    }
    named.into_iter().find_map(|(field, text)| {
        let confusable = names_me(me, &PersonKey::claimed(text))?;
        Some(SelfRequest {
            field,
            text: text.to_string(),
            confusable,
        })
    })
}

/// `Some(false)` when `them` is `me`, `Some(true)` when it only looks like `me`, `None`
/// otherwise: the comparison behind [`self_request`].
pub fn names_me(me: &PersonKey, them: &PersonKey) -> Option<bool> {
    if me.same_person(them) {
        Some(false)
    } else if me.confusable_with(them) {
        Some(true)
    } else {
        None
    }
}

/// Approvals by distinct persons among `votes` (two votes of one person count once).
pub fn distinct_approvers(votes: &[crate::protocol::Vote]) -> u32 {
    let mut seen: Vec<PersonKey> = Vec::new();
    for v in votes
        .iter()
        .filter(|v| v.verdict == crate::protocol::Verdict::Approve)
    {
        let k = v.person_key();
        if !seen.iter().any(|s| s.same_person(&k)) {
            seen.push(k);
        }
    }
    seen.len() as u32
}

/// NFKC, then Unicode default case folding, then NFKC again (case folding can denormalise).
pub fn fold(s: &str) -> String {
    // ASCII is NFKC-stable and folds to its lowercase: the same answer without the
    // Unicode tables, for the identifiers nearly every vote compares.
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    fold_unicode(s)
}

fn fold_unicode(s: &str) -> String {
    let nfkc: String = s.nfkc().collect();
    caseless::default_case_fold_str(&nfkc).nfkc().collect()
}

/// `mailto:addr` → `addr`; `Name <addr>` → `addr`; anything else as it is.
pub fn reduce(s: &str) -> &str {
    let s = s.trim();
    if let Some(open) = s.rfind('<')
        && let Some(inner) = s[open + 1..].strip_suffix('>')
    {
        return reduce_mailto(inner.trim());
    }
    reduce_mailto(s)
}

fn reduce_mailto(s: &str) -> &str {
    match s.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => &s[7..],
        _ => s,
    }
}

/// The canonical form of an email address, or `None` when `s` is not one: reduced
/// ([`reduce`]), folded, the domain without a trailing dot, the local part without a
/// `+tag` sub-address (RFC 5233).
pub fn canonical_email(s: &str) -> Option<String> {
    let folded = fold(reduce(s));
    let (local, domain) = folded.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.');
    let local = local.split_once('+').map_or(local, |(l, _)| l);
    if local.is_empty() || domain.is_empty() || local.contains('@') {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

/// TR39 skeletons of two folded identifiers are equal, or equal once combining marks are
/// dropped (so `alİce`, which folds to `ali̇ce`, still looks like `alice`).
fn looks_alike(a: &str, b: &str) -> bool {
    let (sa, sb) = (skeletons(a), skeletons(b));
    sa.0 == sb.0 || sa.1 == sb.1
}

/// Identifiers whose skeletons are remembered, per thread; past it the memo starts over,
/// so hostile identifiers cannot grow it without bound.
const SKELETON_MEMO: usize = 4096;

thread_local! {
    static SKELETONS: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<(String, String)>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The TR39 skeleton of `s` and that skeleton without combining marks, remembered: the
/// console compares every visible row's requesters with the approver on every frame, and
/// computing skeletons (NFD, confusable tables) each time made a frame 10x slower.
fn skeletons(s: &str) -> std::rc::Rc<(String, String)> {
    SKELETONS.with(|memo| {
        if let Some(v) = memo.borrow().get(s) {
            return v.clone();
        }
        let skeleton: String = unicode_security::skeleton(s).collect();
        let stripped = strip_marks(&skeleton);
        let v = std::rc::Rc::new((skeleton, stripped));
        let mut memo = memo.borrow_mut();
        if memo.len() >= SKELETON_MEMO {
            memo.clear();
        }
        memo.insert(s.to_string(), v.clone());
        v
    })
}

fn strip_marks(s: &str) -> String {
    s.nfd()
        .filter(|c| {
            !matches!(
                c.general_category(),
                GeneralCategory::NonspacingMark
                    | GeneralCategory::SpacingMark
                    | GeneralCategory::EnclosingMark
            )
        })
        .collect()
}

/// True for a Unicode Default_Ignorable_Code_Point. The TR39 skeleton drops exactly those
/// after NFD, so a character whose skeleton is empty is one.
fn default_ignorable(c: char) -> bool {
    let mut buf = [0u8; 4];
    unicode_security::skeleton(c.encode_utf8(&mut buf))
        .next()
        .is_none()
}

/// Why a character may not appear in an identifier, if it may not.
fn forbidden(c: char) -> Option<&'static str> {
    use GeneralCategory::*;
    match c.general_category() {
        Control => Some("a control character"),
        Format => Some("a format character"),
        Surrogate | PrivateUse | Unassigned => Some("an unassigned or private-use character"),
        LineSeparator | ParagraphSeparator => Some("a line separator"),
        _ if default_ignorable(c) => Some("an invisible (default-ignorable) character"),
        _ => None,
    }
}

fn describe(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// A subject token: letters, marks, digits and `. _ - : | / + = ~ #`, no spaces.
fn is_token_char(c: char) -> bool {
    use GeneralCategory::*;
    matches!(
        c.general_category(),
        UppercaseLetter
            | LowercaseLetter
            | TitlecaseLetter
            | ModifierLetter
            | OtherLetter
            | NonspacingMark
            | SpacingMark
            | DecimalNumber
            | LetterNumber
    ) || ".-_:|/+=~#".contains(c)
}

fn check_email(s: &str) -> Result<(), String> {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("is not an email address".into());
    };
    if local.is_empty() || local.len() > 64 {
        return Err("has an email local part that is empty or over 64 bytes".into());
    }
    if let Some(c) = local
        .chars()
        .find(|c| c.is_whitespace() || "@<>,;\"()[]\\".contains(*c))
    {
        return Err(format!(
            "has {} in its email local part",
            if c.is_whitespace() {
                "a space".to_string()
            } else {
                format!("{c:?}")
            }
        ));
    }
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return Err("has no email domain".into());
    }
    for label in domain.split('.') {
        let ok_chars = label
            .chars()
            .all(|c| c == '-' || (is_token_char(c) && !".:|/+=~#_".contains(c)));
        if label.is_empty() || label.len() > 63 || !ok_chars {
            return Err(format!("has an invalid email domain label {label:?}"));
        }
    }
    Ok(())
}

/// Checks an identity field an agent sent (`requester.id`, `requester.on_behalf_of`):
/// `Ok` or a message saying what is wrong (the caller names the field).
///
/// Grammar: `email` | `mailto:email` | `Display Name <email>` | subject token, where a
/// subject token is 1+ letters, marks, digits and `. _ - : | / + = ~ #`; an email is
/// `local@domain` (local part without spaces or `@<>,;"()[]\`, domain labels of letters,
/// digits and `-`, an optional trailing dot).
pub fn check_identifier(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("is required".into());
    }
    if s.len() > MAX_IDENTIFIER {
        return Err(format!(
            "is {} bytes; the limit is {MAX_IDENTIFIER}",
            s.len()
        ));
    }
    if let Some(c) = s.chars().next().filter(|c| c.is_whitespace()) {
        return Err(format!("starts with whitespace ({})", describe(c)));
    }
    if let Some(c) = s.chars().last().filter(|c| c.is_whitespace()) {
        return Err(format!("ends with whitespace ({})", describe(c)));
    }
    if let Some((c, why)) = s.chars().find_map(|c| forbidden(c).map(|w| (c, w))) {
        return Err(format!("contains {why} ({})", describe(c)));
    }
    // `Display Name <addr>`: the only form with spaces inside.
    if let Some(open) = s.rfind('<') {
        let Some(inner) = s[open + 1..].strip_suffix('>') else {
            return Err("has a '<' without a closing '>' at the end".into());
        };
        let name = s[..open].trim_end();
        if name.is_empty() || name.contains(['<', '>']) {
            return Err("is not `Display Name <address>`".into());
        }
        if let Some(c) = name.chars().find(|c| c.is_whitespace() && *c != ' ') {
            return Err(format!(
                "has whitespace {} in its display name",
                describe(c)
            ));
        }
        return check_email(inner).map_err(|e| format!("{e} (inside <…>)"));
    }
    if let Some(c) = s.chars().find(|c| c.is_whitespace()) {
        return Err(format!(
            "contains whitespace ({}); only `Display Name <address>` may",
            describe(c)
        ));
    }
    let bare = reduce_mailto(s);
    if bare.contains('@') {
        return check_email(bare);
    }
    if bare.len() != s.len() {
        return Err("has `mailto:` before something that is not an email address".into());
    }
    match s.chars().find(|c| !is_token_char(*c)) {
        Some(c) => Err(format!(
            "has {:?} ({}); a subject is letters, digits and . _ - : | / + = ~ #",
            c,
            describe(c)
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "person_tests.rs"]
mod tests;
