//! Reading infrastructure changes line by line: a unified diff of Terraform (or any HCL,
//! YAML, JSON) files, the text `terraform plan` / `terraform show` prints, or a before and
//! after pair. Each line says whether the change adds it, removes it or keeps it, and
//! which resource it belongs to, so the network-exposure and public-data detectors can
//! ask "what does this change open up" without caring how the agent sent it.

use crate::protocol::{ActionRequest, Change};

/// What the change does to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Added,
    Removed,
    /// Context, or a plan line with no marker.
    Kept,
    /// A plan's in-place update (`~ key = old -> new`): the new value is in `after`.
    Updated,
}

/// One line of the change, marker stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub mark: Mark,
    pub text: String,
    /// The resource it belongs to (`aws_security_group.db`), when known.
    pub resource: Option<String>,
    /// The blocks around it, outermost first (`ingress`, `cidr_blocks`).
    pub blocks: Vec<String>,
}

impl Line {
    /// The text as it reads after the change: for `key = old -> new`, `key = new`.
    pub fn after(&self) -> String {
        match self.text.split_once(" -> ") {
            Some((left, new)) if self.mark == Mark::Updated => match left.split_once('=') {
                Some((key, _)) => format!("{} = {}", key.trim(), new.trim()),
                None => new.trim().to_string(),
            },
            _ => self.text.clone(),
        }
    }

    /// True when the line sits inside a block of this name (any depth).
    pub fn within(&self, name: &str) -> bool {
        self.blocks.iter().any(|b| b == name)
    }

    /// True when this line is part of what the change puts in place.
    pub fn is_new(&self) -> bool {
        matches!(self.mark, Mark::Added | Mark::Updated)
    }
}

/// A resource the change deletes: a removed `resource "T" "N" {` line, or a plan's
/// `# T.N will be destroyed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destroyed {
    pub kind: String,
    pub address: String,
}

/// The whole change, read.
#[derive(Debug, Default)]
pub struct Reading {
    pub lines: Vec<Line>,
    pub destroyed: Vec<Destroyed>,
}

/// Reads the request's change; `None` when it carries none.
pub fn read_change(req: &ActionRequest) -> Option<Reading> {
    req.change.as_ref().map(|c| match c {
        Change::UnifiedDiff { diff } => read_text(diff),
        Change::BeforeAfter { before, after, .. } => {
            let old: std::collections::HashSet<&str> = before.lines().collect();
            let new: std::collections::HashSet<&str> = after.lines().collect();
            let mut text = String::new();
            for l in before.lines().filter(|l| !new.contains(l)) {
                text.push_str(&format!("-{l}\n"));
            }
            for l in after.lines() {
                let mark = if old.contains(l) { ' ' } else { '+' };
                text.push_str(&format!("{mark}{l}\n"));
            }
            read_text(&text)
        }
    })
}

/// `resource "TYPE" "NAME"` in a line: `TYPE.NAME`, and the type.
fn resource_decl(s: &str) -> Option<(String, String)> {
    let rest = s.trim_start().strip_prefix("resource ")?;
    let mut parts = rest.split('"').filter(|p| !p.trim().is_empty());
    let kind = parts.next()?.trim().to_string();
    let name = parts.next()?.trim().to_string();
    (!kind.contains(' ') && !name.contains(' ') && !name.contains('{'))
        .then(|| (format!("{kind}.{name}"), kind))
}

/// `# TYPE.NAME will be destroyed` (or updated, created, replaced) in a plan.
fn plan_header(s: &str) -> Option<(String, String, bool)> {
    let rest = s.trim_start().strip_prefix("# ")?;
    let (address, verb) = rest.split_once(' ')?;
    let verb = verb.trim();
    if !(verb.starts_with("will be") || verb.starts_with("must be")) {
        return None;
    }
    // `module.x.aws_s3_bucket.y` and `aws_s3_bucket.y["k"]`: the type is the part before
    // the last name.
    let plain = address.split('[').next().unwrap_or(address);
    let parts: Vec<&str> = plain.split('.').collect();
    let kind = parts.get(parts.len().checked_sub(2)?)?.to_string();
    Some((address.to_string(), kind, verb.contains("destroyed")))
}

/// Whether a line opens a block (`ingress {`, `egress = [`, a bare `{`), and its name
/// (`None` for an unnamed one, which takes its parent's).
fn opens_block(s: &str) -> Option<Option<String>> {
    let t = s.trim();
    let head = t
        .strip_suffix('{')
        .or_else(|| t.strip_suffix('['))?
        .trim_end();
    let head = head.strip_suffix('=').unwrap_or(head).trim();
    let head = head.strip_suffix(':').unwrap_or(head).trim();
    let name = head
        .split_whitespace()
        .next_back()
        .unwrap_or("")
        .trim_matches('"');
    let named = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    Some(named.then(|| name.to_ascii_lowercase()))
}

/// Splits a unified diff's or a plan's line into its mark and text.
fn split_mark(raw: &str) -> (Mark, &str, bool) {
    if let Some(rest) = raw.strip_prefix('+').filter(|_| !raw.starts_with("+++")) {
        return (Mark::Added, rest, false);
    }
    if let Some(rest) = raw.strip_prefix('-').filter(|_| !raw.starts_with("---")) {
        return (Mark::Removed, rest, false);
    }
    if let Some(rest) = raw.strip_prefix(' ') {
        // Context of a diff, or a plan's indentation: a plan marks lines after spaces.
        let t = rest.trim_start();
        for (m, mark) in [
            ("-/+ ", Mark::Updated),
            ("+/- ", Mark::Updated),
            ("+ ", Mark::Added),
            ("- ", Mark::Removed),
            ("~ ", Mark::Updated),
        ] {
            if let Some(r) = t.strip_prefix(m) {
                return (mark, r, true);
            }
        }
        return (Mark::Kept, rest, false);
    }
    (Mark::Kept, raw, false)
}

/// Reads a unified diff or a plan's text.
pub fn read_text(text: &str) -> Reading {
    let mut out = Reading::default();
    let mut resource: Option<String> = None;
    let mut blocks: Vec<String> = Vec::new();
    for raw in text.lines() {
        if raw.starts_with("diff --git") || raw.starts_with("+++ ") || raw.starts_with("--- ") {
            (resource, blocks) = (None, Vec::new());
            continue;
        }
        if let Some(h) = raw.strip_prefix("@@") {
            // `@@ -18,12 +18,12 @@ resource "aws_security_group" "db" {`
            blocks.clear();
            resource = h
                .split_once("@@")
                .and_then(|(_, tail)| resource_decl(tail))
                .map(|(addr, _)| addr);
            continue;
        }
        if let Some((address, kind, destroyed)) = plan_header(raw) {
            if destroyed {
                out.destroyed.push(Destroyed {
                    kind,
                    address: address.clone(),
                });
            }
            (resource, blocks) = (Some(address), Vec::new());
            continue;
        }
        let (mark, body, plan) = split_mark(raw);
        if let Some((address, kind)) = resource_decl(body) {
            if mark == Mark::Removed && !plan {
                out.destroyed.push(Destroyed {
                    kind,
                    address: address.clone(),
                });
            }
            if plan {
                // The plan's `# header` named it already (with module path and index).
                resource = resource.or(Some(address));
            } else {
                resource = Some(address);
            }
            blocks.clear();
            continue;
        }
        // A diff's removed lines belong to the old file: they do not shape the new one.
        let shapes = plan || mark != Mark::Removed;
        let t = body.trim();
        if shapes && (t.starts_with('}') || t.starts_with(']')) {
            blocks.pop();
        }
        out.lines.push(Line {
            mark,
            text: t.to_string(),
            resource: resource.clone(),
            blocks: blocks.clone(),
        });
        if shapes && let Some(name) = opens_block(body) {
            let name = name.or_else(|| blocks.last().cloned()).unwrap_or_default();
            blocks.push(name);
        }
    }
    out
}

/// `key = value` of a line, key lowercased, value without quotes, commas or spaces.
pub fn assignment(text: &str) -> Option<(String, String)> {
    let (k, v) = text.split_once('=').or_else(|| text.split_once(':'))?;
    let key = k.trim().trim_matches('"').to_ascii_lowercase();
    let value = v
        .trim()
        .trim_end_matches(',')
        .trim()
        .trim_matches('"')
        .to_string();
    (!key.is_empty() && !key.contains(' ')).then_some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"Terraform will perform the following actions:

  # aws_s3_bucket_public_access_block.invoices will be destroyed
  - resource "aws_s3_bucket_public_access_block" "invoices" {
      - block_public_acls       = true -> null
      - bucket                  = "acme-invoices-prod" -> null
    }

  # module.net.aws_security_group.db will be updated in-place
  ~ resource "aws_security_group" "db" {
      ~ ingress = [
          + {
              + cidr_blocks      = [
                  + "0.0.0.0/0",
                ]
              + from_port        = 5432
            },
        ]
        name = "db"
    }
"#;

    #[test]
    fn a_plan_names_resources_blocks_and_destroyed_ones() {
        let r = read_text(PLAN);
        assert_eq!(
            r.destroyed,
            [Destroyed {
                kind: "aws_s3_bucket_public_access_block".into(),
                address: "aws_s3_bucket_public_access_block.invoices".into()
            }]
        );
        let open = r
            .lines
            .iter()
            .find(|l| l.text.contains("0.0.0.0/0"))
            .unwrap_or_else(|| panic!("no line"));
        assert_eq!(open.mark, Mark::Added);
        assert_eq!(
            open.resource.as_deref(),
            Some("module.net.aws_security_group.db")
        );
        assert_eq!(open.blocks, ["ingress", "ingress", "cidr_blocks"]);
    }

    #[test]
    fn an_update_reads_as_its_new_value() {
        let r = read_text(
            "  ~ resource \"aws_db_instance\" \"a\" {\n      ~ storage_encrypted = true -> false\n    }\n",
        );
        let l = &r.lines[0];
        assert_eq!(l.mark, Mark::Updated);
        assert_eq!(l.after(), "storage_encrypted = false");
        assert_eq!(
            assignment(&l.after()),
            Some(("storage_encrypted".into(), "false".into()))
        );
    }

    #[test]
    fn a_diff_takes_the_resource_from_the_hunk_header() {
        let d = "--- a/n.tf\n+++ b/n.tf\n@@ -1,3 +1,3 @@ resource \"aws_security_group\" \"db\" {\n   ingress {\n-    cidr_blocks = [\"10.0.0.0/8\"]\n+    cidr_blocks = [\"0.0.0.0/0\"]\n   }\n";
        let r = read_text(d);
        let added = r
            .lines
            .iter()
            .find(|l| l.mark == Mark::Added)
            .unwrap_or_else(|| panic!());
        assert_eq!(added.resource.as_deref(), Some("aws_security_group.db"));
        assert!(added.within("ingress") && !added.within("egress"));
    }
}
