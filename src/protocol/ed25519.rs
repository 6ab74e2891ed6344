//! The one Ed25519 verification rule for approvers' decisions, single and batched.
//!
//! Single and batch verification must accept exactly the same signatures: a broker that
//! batch-verifies must never record a vote that `signoff audit verify` (single) rejects, or
//! the reverse. The cofactorless check `[s]B = R + [k]A` (what `ed25519-dalek`'s `verify`
//! does) cannot promise that — a signer who hides a small-order component in `R` fails it
//! alone but passes a randomised batch with probability up to 1/2. So both paths use the
//! cofactored group equation of RFC 8032 §5.1.7, `[8][s]B = [8]R + [8][k]A`, which a batch
//! reproduces exactly (up to the 2^-128 chance of the random coefficients), with strict
//! inputs:
//!
//! - the public key is a canonical encoding of a point of prime order (not small order, no
//!   torsion component): checked once, when the key is registered ([`check_public_key`]);
//! - `s` is canonical (`s < ℓ`) and `R` is a canonical encoding of a curve point.
//!
//! An honest signer's signature (`R = [r]B`) verifies under both equations, so any
//! RFC 8032 signer interoperates; docs/protocol.md names the rule.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity as _, VartimeMultiscalarMul as _};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest as _, Sha512};

/// Why a key or signature is refused before any group equation is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("the public key is not the canonical encoding of a curve point")]
    NonCanonicalKey,
    #[error("the public key has small order or a torsion component (a weak key)")]
    WeakKey,
    #[error("the signature's s is not below the group order")]
    NonCanonicalScalar,
    #[error("the signature's R is not the canonical encoding of a curve point")]
    NonCanonicalR,
}

/// Checks that `bytes` encode a usable public key: canonical, prime order.
pub fn check_public_key(bytes: &[u8; 32]) -> Result<EdwardsPoint, Malformed> {
    let point = decompress_canonical(bytes).ok_or(Malformed::NonCanonicalKey)?;
    if point.is_small_order() || !point.is_torsion_free() {
        return Err(Malformed::WeakKey);
    }
    Ok(point)
}

/// One signature, parsed and hashed, ready for the group equation.
#[derive(Clone, Copy)]
pub struct Prepared {
    /// The public key `A` (checked by [`check_public_key`] at registration).
    a: EdwardsPoint,
    r: EdwardsPoint,
    s: Scalar,
    /// `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
    k: Scalar,
}

/// Parses a signature over `message` by `key`; refuses non-canonical `s` and `R`.
pub fn prepare(key: &VerifyingKey, message: &[u8], sig: &[u8; 64]) -> Result<Prepared, Malformed> {
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&sig[..32]);
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&sig[32..]);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
        .ok_or(Malformed::NonCanonicalScalar)?;
    let r = decompress_canonical(&r_bytes).ok_or(Malformed::NonCanonicalR)?;
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(key.as_bytes());
    h.update(message);
    let k = Scalar::from_hash(h);
    Ok(Prepared {
        a: key.to_edwards(),
        r,
        s,
        k,
    })
}

/// The cofactored equation for one signature: `[8]([s]B − [k]A − R) = 0`.
pub fn verify_one(p: &Prepared) -> bool {
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&-p.k, &p.a, &p.s);
    (sb_minus_ka - p.r).mul_by_cofactor().is_identity()
}

/// The cofactored equation for many signatures at once, with one random 128-bit
/// coefficient `z` per signature: `[8](Σ z·[s]B − Σ z·R − Σ z·[k]A) = 0`. True only if every
/// signature passes [`verify_one`] (but for a 2^-128 chance); on false, check them one by
/// one to find the bad ones.
pub fn verify_batch(items: &[Prepared]) -> bool {
    match items {
        [] => return true,
        [one] => return verify_one(one),
        _ => {}
    }
    let mut seed = vec![0u8; 16 * items.len()];
    if getrandom::fill(&mut seed).is_err() {
        // No randomness, no batch: the one-by-one check is always sound.
        return items.iter().all(verify_one);
    }
    let zs: Vec<Scalar> = seed
        .chunks_exact(16)
        .map(|c| {
            let mut b = [0u8; 16];
            b.copy_from_slice(c);
            Scalar::from(u128::from_le_bytes(b))
        })
        .collect();
    let b_coefficient: Scalar = items.iter().zip(&zs).map(|(p, z)| z * p.s).sum();
    let scalars = std::iter::once(b_coefficient)
        .chain(zs.iter().map(|z| -z))
        .chain(items.iter().zip(&zs).map(|(p, z)| -(z * p.k)));
    let points = std::iter::once(curve25519_dalek::constants::ED25519_BASEPOINT_POINT)
        .chain(items.iter().map(|p| p.r))
        .chain(items.iter().map(|p| p.a));
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
        .mul_by_cofactor()
        .is_identity()
}

/// Decompresses `bytes` only if they are the canonical encoding of the point.
fn decompress_canonical(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    canonical_encoding(bytes)
        .then(|| CompressedEdwardsY(*bytes).decompress())
        .flatten()
}

/// True unless `bytes` are a non-canonical encoding: `y ≥ p` (p = 2^255 − 19), or the sign
/// bit set on a point whose x is 0 (y = 1 or y = p − 1). A byte check, where re-compressing
/// the point would cost a field inversion per signature.
fn canonical_encoding(bytes: &[u8; 32]) -> bool {
    let top_ones = bytes[1..31].iter().all(|&b| b == 0xff) && bytes[31] & 0x7f == 0x7f;
    if top_ones && bytes[0] >= 0xed {
        return false;
    }
    if bytes[31] & 0x80 != 0 {
        let one = bytes[0] == 1 && bytes[1..31].iter().all(|&b| b == 0) && bytes[31] == 0x80;
        let minus_one = bytes[0] == 0xec && top_ones;
        if one || minus_one {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::constants::EIGHT_TORSION;
    use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};

    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn signed(seed: u8, msg: &[u8]) -> (VerifyingKey, [u8; 64]) {
        let k = key(seed);
        (k.verifying_key(), k.sign(msg).to_bytes())
    }

    /// RFC 8032 §7.1 TEST 2: a one-byte message.
    #[test]
    fn rfc8032_test_vector_verifies() {
        let pk = hex::decode("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
            .unwrap();
        let sig = hex::decode(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
             085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        )
        .unwrap();
        let pk: [u8; 32] = pk.try_into().unwrap();
        let sig: [u8; 64] = sig.try_into().unwrap();
        check_public_key(&pk).unwrap();
        let vk = VerifyingKey::from_bytes(&pk).unwrap();
        let p = prepare(&vk, &[0x72], &sig).unwrap();
        assert!(verify_one(&p));
        let wrong = prepare(&vk, &[0x73], &sig).unwrap();
        assert!(!verify_one(&wrong));
    }

    #[test]
    fn agrees_with_ed25519_dalek_on_honest_and_tampered_signatures() {
        for seed in 1..40u8 {
            let msg = format!("decision {seed}");
            let (vk, mut sig) = signed(seed, msg.as_bytes());
            assert!(verify_one(&prepare(&vk, msg.as_bytes(), &sig).unwrap()));
            sig[(seed as usize * 7) % 64] ^= 1 << (seed % 8);
            let dalek = vk
                .verify(msg.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
                .is_ok();
            let ours = prepare(&vk, msg.as_bytes(), &sig).is_ok_and(|p| verify_one(&p));
            assert!(!dalek && !ours, "seed {seed}");
        }
    }

    #[test]
    fn a_batch_passes_only_when_every_signature_does() {
        let items: Vec<Prepared> = (1..=64u8)
            .map(|i| {
                let msg = vec![i; 100];
                let (vk, sig) = signed(i, &msg);
                prepare(&vk, &msg, &sig).unwrap()
            })
            .collect();
        assert!(verify_batch(&items));
        for bad in [0, 31, 63] {
            let mut tampered = items.clone();
            let (vk, sig) = signed(200, b"other message");
            tampered[bad] = prepare(&vk, b"not what was signed", &sig).unwrap();
            assert!(!verify_batch(&tampered), "bad signature at {bad}");
        }
    }

    /// A signer who adds a small-order point to `R`: every torsion point, alone or paired
    /// with its opposite in one batch, gives the same answer one by one and batched, every
    /// time (the cofactored equation ignores torsion in both paths).
    #[test]
    fn torsion_in_r_gets_the_same_answer_single_and_batched() {
        let honest: Vec<Prepared> = (1..=8u8)
            .map(|i| {
                let (vk, sig) = signed(i, b"honest");
                prepare(&vk, b"honest", &sig).unwrap()
            })
            .collect();
        for t in EIGHT_TORSION.iter().skip(1) {
            for _ in 0..16 {
                let crafted = |seed: u8, t: EdwardsPoint| {
                    let (vk, sig) = signed(seed, b"crafted");
                    let p = prepare(&vk, b"crafted", &sig).unwrap();
                    Prepared { r: p.r + t, ..p }
                };
                let one = crafted(50, *t);
                let mut batch = honest.clone();
                batch.push(one);
                batch.push(crafted(51, -t));
                assert_eq!(verify_batch(&batch), batch.iter().all(verify_one));
            }
        }
    }

    #[test]
    fn weak_and_non_canonical_keys_are_refused() {
        for t in EIGHT_TORSION.iter() {
            assert_eq!(
                check_public_key(t.compress().as_bytes()),
                Err(Malformed::WeakKey)
            );
        }
        let good = key(9).verifying_key().to_edwards();
        let mixed = (good + EIGHT_TORSION[1]).compress();
        assert_eq!(check_public_key(mixed.as_bytes()), Err(Malformed::WeakKey));
        // y = p (2^255 − 19) is a non-canonical encoding of y = 0.
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xed;
        non_canonical[31] = 0x7f;
        assert!(check_public_key(&non_canonical).is_err());
        check_public_key(key(9).verifying_key().as_bytes()).unwrap();
    }

    /// The byte check says exactly what decompress-then-compress would say.
    #[test]
    fn the_canonical_byte_check_agrees_with_recompression() {
        let by_recompression = |b: &[u8; 32]| {
            CompressedEdwardsY(*b)
                .decompress()
                .is_some_and(|p| p.compress().as_bytes() == b)
        };
        let mut cases: Vec<[u8; 32]> = Vec::new();
        for low in [0u8, 1, 0xeb, 0xec, 0xed, 0xee, 0xff] {
            for top in [0x00u8, 0x7f, 0x80, 0xff] {
                for fill in [0x00u8, 0xff] {
                    let mut b = [fill; 32];
                    b[0] = low;
                    b[31] = top;
                    cases.push(b);
                }
            }
        }
        for seed in 1..200u8 {
            let mut b = *key(seed).verifying_key().as_bytes();
            cases.push(b);
            b[31] ^= 0x80;
            cases.push(b);
        }
        for b in &cases {
            let fast = decompress_canonical(b).is_some();
            assert_eq!(fast, by_recompression(b), "{}", hex::encode(b));
        }
    }

    #[test]
    fn non_canonical_s_is_refused() {
        let (vk, mut sig) = signed(3, b"m");
        // s + ℓ: the same scalar, not canonically encoded.
        let s = Scalar::from_canonical_bytes(sig[32..].try_into().unwrap()).unwrap();
        let l_minus_1 = -Scalar::ONE;
        let mut wide = [0u8; 32];
        // s + ℓ = s + (ℓ − 1) + 1 as integers, added byte by byte with carries.
        let (a, b) = (s.to_bytes(), l_minus_1.to_bytes());
        let mut carry = 1u16;
        for i in 0..32 {
            let v = a[i] as u16 + b[i] as u16 + carry;
            wide[i] = v as u8;
            carry = v >> 8;
        }
        sig[32..].copy_from_slice(&wide);
        assert_eq!(
            prepare(&vk, b"m", &sig).err(),
            Some(Malformed::NonCanonicalScalar)
        );
    }
}
