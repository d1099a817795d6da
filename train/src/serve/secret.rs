//! Credentials: rater tokens and their stored form, and the admin token check. Tokens are 130
//! random bits from the OS, written in Crockford base32 (no I/L/O/U, so a rater can copy one by
//! hand as a resume code); the database keeps only their SHA-256, so a copy of it grants nothing.

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 26 symbols × 5 bits = 130 bits.
const TOKEN_SYMBOLS: usize = 26;

/// A fresh random token, e.g. `7K3M-0Q9Z-…` (groups of four, dashes ignored when read back).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_SYMBOLS];
    getrandom::fill(&mut bytes)?;
    let symbols: Vec<u8> = bytes.iter().map(|b| ALPHABET[(b & 31) as usize]).collect();
    let groups: Vec<&str> = symbols.chunks(4).map(|c| std::str::from_utf8(c).expect("ASCII alphabet")).collect();
    Ok(groups.join("-"))
}

/// The token as typed: upper-cased, dashes and spaces dropped, confusable letters mapped as
/// Crockford's base32 reads them. `None` when it cannot be a token.
pub fn normalize(token: &str) -> Option<String> {
    let mut out = String::with_capacity(TOKEN_SYMBOLS);
    for c in token.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
        if out.len() > TOKEN_SYMBOLS {
            return None;
        }
    }
    (out.len() == TOKEN_SYMBOLS).then_some(out)
}

/// What the database stores for a token (hex SHA-256 of its normalized form).
pub fn token_hash(normalized: &str) -> String {
    format!("{:x}", Sha256::digest(normalized.as_bytes()))
}

/// Compare two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_readable_and_normalize_back() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_SYMBOLS + TOKEN_SYMBOLS / 4);
        let typed = a.to_lowercase().replace('0', "o").replace('-', " ");
        assert_eq!(normalize(&typed), normalize(&a));
        assert_eq!(normalize(&a).unwrap().len(), TOKEN_SYMBOLS);
        assert_eq!(normalize("short"), None);
        assert_eq!(normalize(&format!("{a}X")), None);
        assert_eq!(normalize("ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ"), None);
        assert_ne!(token_hash("A"), token_hash("B"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
