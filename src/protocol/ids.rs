//! The protocol's ULID identifiers, from one definition: each is a transparent newtype
//! (serialized as the 26-character ULID), new from the clock and randomness, and parsed
//! with the error the validators report.

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub ulid::Ulid);

        impl $name {
            pub fn new() -> Self {
                Self(ulid::Ulid::new())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ulid::Ulid::from_string(s)
                    .map(Self)
                    .map_err(|e| format!("not a ULID ({e}): {s:?}"))
            }
        }
    };
}

ulid_id! {
    /// An action's id: a ULID, so ids sort by creation time.
    ActionId
}

ulid_id! {
    /// A decision's id: a ULID chosen by the console, so a re-send after reconnect is
    /// recognisably the same decision (and a replay of it is refused).
    DecisionId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_what_is_not_a_ulid() {
        let a = ActionId::new();
        assert_eq!(a.to_string().parse::<ActionId>(), Ok(a));
        let d: DecisionId = "01JD0000000000000000000000".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            "\"01JD0000000000000000000000\""
        );
        let e = "not-a-ulid".parse::<ActionId>().unwrap_err();
        assert!(e.starts_with("not a ULID"), "{e}");
    }
}
