use super::*;

fn alice() -> PersonKey {
    PersonKey::authenticated(
        "https://id.example.test",
        "alice",
        Some("alice@example.test"),
    )
}

/// Refused at intake, or recognised as alice by the comparison.
fn caught(spelling: &str) -> bool {
    check_identifier(spelling).is_err()
        || PersonKey::claimed(spelling).matches_or_confusable(&alice())
}

#[test]
fn folding_is_nfkc_and_case_fold() {
    assert_eq!(fold("ＡＬＩＣＥ"), "alice");
    assert_eq!(fold("Alice"), "alice");
    assert_eq!(fold("STRASSE"), fold("straße"));
}

#[test]
fn emails_reduce_to_one_canonical_form() {
    for s in [
        "alice@example.test",
        "ALICE@Example.TEST",
        "mailto:alice@example.test",
        "MAILTO:alice@example.test",
        "Alice <alice@example.test>",
        "Alice Liddell <mailto:alice@example.test>",
        "alice@example.test.",
        "alice+ops@example.test",
        "ａｌｉｃｅ@example.test",
    ] {
        assert_eq!(
            canonical_email(s).as_deref(),
            Some("alice@example.test"),
            "{s:?}"
        );
    }
    assert_eq!(canonical_email("alice"), None);
    assert_eq!(canonical_email("@example.test"), None);
    assert_eq!(canonical_email("alice@"), None);
}

#[test]
fn same_person_by_email_or_by_subject_under_one_issuer() {
    let oidc = alice();
    let static_email = PersonKey::authenticated(
        STATIC_ISSUER,
        "alice-token-user",
        Some("ALICE@example.test"),
    );
    let static_subject = PersonKey::authenticated(STATIC_ISSUER, "ALICE@example.test", None);
    assert!(oidc.same_person(&static_email));
    assert!(
        oidc.same_person(&static_subject),
        "a subject that is an email is that email"
    );
    // The same subject under two issuers without a shared email: two people.
    let other_idp = PersonKey::authenticated("https://other.example", "alice", None);
    let no_email = PersonKey::authenticated("https://id.example.test", "alice", None);
    assert!(!other_idp.same_person(&no_email));
    assert!(no_email.same_person(&oidc), "same issuer and subject");
    // A claimed identifier has no issuer: it matches the subject under any issuer.
    assert!(PersonKey::claimed("Alice").same_person(&other_idp));
    let bob = PersonKey::authenticated("https://id.example.test", "bob", Some("bob@example.test"));
    assert!(!bob.same_person(&oidc));
    assert!(!bob.matches_or_confusable(&oidc));
}

#[test]
fn issuer_trailing_slash_does_not_split_a_person() {
    let a = PersonKey::authenticated("https://id.example.test/", "alice", None);
    let b = PersonKey::authenticated("https://id.example.test", "Alice", None);
    assert!(a.same_person(&b));
}

// One named test per spelling of alice from issue 13.

#[test]
fn self_approval_trailing_space_is_refused_at_intake() {
    assert!(
        check_identifier("alice ")
            .unwrap_err()
            .contains("ends with whitespace")
    );
}

#[test]
fn self_approval_leading_space_is_refused_at_intake() {
    assert!(
        check_identifier(" alice")
            .unwrap_err()
            .contains("starts with whitespace")
    );
}

#[test]
fn self_approval_trailing_tab_is_refused_at_intake() {
    assert!(check_identifier("alice@example.test\t").is_err());
}

#[test]
fn self_approval_other_case_is_the_same_person() {
    assert!(check_identifier("Alice").is_ok());
    assert!(PersonKey::claimed("Alice").same_person(&alice()));
}

#[test]
fn self_approval_display_name_form_is_the_address() {
    assert!(check_identifier("Alice <alice@example.test>").is_ok());
    assert!(PersonKey::claimed("Alice <alice@example.test>").same_person(&alice()));
}

#[test]
fn self_approval_mailto_is_the_address() {
    assert!(check_identifier("mailto:alice@example.test").is_ok());
    assert!(PersonKey::claimed("mailto:alice@example.test").same_person(&alice()));
}

#[test]
fn self_approval_trailing_dot_domain_is_the_address() {
    assert!(check_identifier("alice@example.test.").is_ok());
    assert!(PersonKey::claimed("alice@example.test.").same_person(&alice()));
}

#[test]
fn self_approval_fullwidth_is_the_same_person() {
    assert!(check_identifier("ａｌｉｃｅ").is_ok());
    assert!(PersonKey::claimed("ａｌｉｃｅ").same_person(&alice()));
}

#[test]
fn self_approval_cyrillic_a_is_confusable() {
    let s = "\u{0430}lice";
    assert!(check_identifier(s).is_ok());
    let k = PersonKey::claimed(s);
    assert!(!k.same_person(&alice()), "a different string…");
    assert!(k.confusable_with(&alice()), "…that looks like alice");
}

#[test]
fn self_approval_dotted_capital_i_is_confusable() {
    // U+0130 folds to `i` + U+0307 COMBINING DOT ABOVE: not equal to alice, but alike.
    let s = "al\u{0130}ce";
    assert!(check_identifier(s).is_ok());
    assert!(!PersonKey::claimed(s).same_person(&alice()));
    assert!(PersonKey::claimed(s).confusable_with(&alice()));
}

#[test]
fn self_approval_zero_width_space_is_refused_at_intake() {
    let e = check_identifier("al\u{200b}ice").unwrap_err();
    assert!(e.contains("U+200B"), "{e}");
}

#[test]
fn every_listed_spelling_is_caught() {
    for s in [
        "alice ",
        " alice",
        "alice@example.test\t",
        "Alice",
        "Alice <alice@example.test>",
        "mailto:alice@example.test",
        "alice@example.test.",
        "ａｌｉｃｅ",
        "\u{0430}lice",
        "al\u{0130}ce",
        "al\u{200b}ice",
    ] {
        assert!(caught(s), "{s:?} slipped through");
    }
}

#[test]
fn other_people_are_not_caught() {
    for s in [
        "bob",
        "alicia",
        "alice2",
        "malice",
        "bob@example.test",
        "alice@other.test",
    ] {
        assert!(check_identifier(s).is_ok(), "{s:?}");
        // alice@other.test shares the local part: a look-alike of the subject `alice`,
        // refused as self-approval on purpose (same name at another domain).
        if s == "alice@other.test" {
            continue;
        }
        assert!(
            !PersonKey::claimed(s).matches_or_confusable(&alice()),
            "{s:?}"
        );
    }
}

#[test]
fn real_world_identifiers_are_accepted() {
    for s in [
        "agent-7",
        "deploy-bot",
        "auth0|5f7c8ec7c33c6c004bbafe82",
        "google-oauth2|104235",
        "00u1abcd2EFGH3ijk4l5",
        "spiffe://example.org/ns/ci/sa/deployer",
        "ci/deploy#42",
        "Ünal@beispiel.de",
        "名前@例え.jp",
        "Jürgen Müller <juergen@example.de>",
        "o'brien@example.test",
    ] {
        assert_eq!(check_identifier(s), Ok(()), "{s:?}");
    }
}

#[test]
fn malformed_identifiers_say_what_is_wrong() {
    let cases = [
        ("", "required"),
        ("alice\u{7}", "control"),
        ("\u{202e}ecila", "format"),
        ("ali\u{00ad}ce", "U+00AD"),
        ("ali\u{034f}ce", "default-ignorable"),
        ("al ice", "whitespace"),
        ("ali\u{2028}ce", "line separator"),
        ("Alice <alice@example.test", "closing"),
        ("<alice@example.test>", "Display Name"),
        ("a@b@c", "local part"),
        ("alice@", "domain"),
        ("alice@exa mple.test", "whitespace"),
        ("mailto:alice", "mailto"),
        ("alice!", "subject is"),
        ("alice\u{3000}", "whitespace"),
    ];
    for (s, want) in cases {
        let e = check_identifier(s).err().unwrap_or_default();
        assert!(e.contains(want), "{s:?}: {e:?} should mention {want:?}");
    }
    let long = "a".repeat(MAX_IDENTIFIER + 1);
    assert!(check_identifier(&long).unwrap_err().contains("limit"));
}

#[test]
fn the_ascii_fast_path_folds_exactly_as_the_unicode_tables_do() {
    // Every ASCII character alone, and runs of all of them: the fast path must give the
    // full NFKC + case fold + NFKC answer, byte for byte.
    let all: String = (0u8..=127).map(char::from).collect();
    for c in all.chars() {
        let s = c.to_string();
        assert_eq!(fold(&s), fold_unicode(&s), "{c:?}");
    }
    assert_eq!(fold(&all), fold_unicode(&all));
    for s in [
        "Alice@Example.TEST",
        "mailto:BOB+ops@corp.io",
        "Deploy Bot <X@Y.Z>",
    ] {
        assert_eq!(fold(s), fold_unicode(s), "{s:?}");
    }
}

proptest::proptest! {
    #[test]
    fn the_ascii_fast_path_agrees_on_any_ascii_string(s in "[\\x00-\\x7f]{0,64}") {
        proptest::prop_assert_eq!(fold(&s), fold_unicode(&s));
    }
}
