//! Hex decoding with errors that say what was wrong and where.

use core::fmt;

/// Why a hex string could not be decoded.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HexError {
    /// A character that is not a hex digit, at this byte offset of the string.
    InvalidChar {
        /// The offending character.
        ch: char,
        /// Its byte offset in the string.
        index: usize,
    },
    /// The string has an odd number of digits.
    OddLength {
        /// Number of hex digits given.
        len: usize,
    },
    /// The string decodes to the wrong number of bytes.
    WrongLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes the string holds (half its length, rounded down).
        got: usize,
    },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HexError::InvalidChar { ch, index } => {
                write!(f, "invalid hex character {ch:?} at position {index}")
            }
            HexError::OddLength { len } => write!(f, "odd number of hex digits ({len})"),
            HexError::WrongLength { expected, got } => write!(
                f,
                "expected {expected} bytes ({} hex digits), got {got} bytes",
                expected * 2
            ),
        }
    }
}

impl core::error::Error for HexError {}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn check_chars(s: &str) -> Result<(), HexError> {
    match s.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        Some((index, ch)) => Err(HexError::InvalidChar { ch, index }),
        None => Ok(()),
    }
}

/// Decodes exactly `N` bytes of hex (either case, no prefix).
pub(crate) fn decode_array<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    check_chars(s)?;
    if s.len() != 2 * N {
        if s.len() % 2 == 1 {
            return Err(HexError::OddLength { len: s.len() });
        }
        return Err(HexError::WrongLength {
            expected: N,
            got: s.len() / 2,
        });
    }
    let b = s.as_bytes();
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        // Both are hex digits: checked above.
        let hi = nibble(b[2 * i]).unwrap_or(0);
        let lo = nibble(b[2 * i + 1]).unwrap_or(0);
        *o = (hi << 4) | lo;
    }
    Ok(out)
}

/// Decodes any even-length hex string.
#[allow(dead_code)] // used by the job and validator modules
pub(crate) fn decode_vec(s: &str) -> Result<alloc::vec::Vec<u8>, HexError> {
    check_chars(s)?;
    if s.len() % 2 == 1 {
        return Err(HexError::OddLength { len: s.len() });
    }
    let b = s.as_bytes();
    Ok((0..s.len() / 2)
        .map(|i| (nibble(b[2 * i]).unwrap_or(0) << 4) | nibble(b[2 * i + 1]).unwrap_or(0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(decode_array::<2>("abcd"), Ok([0xab, 0xcd]));
        assert_eq!(decode_array::<2>("ABCD"), Ok([0xab, 0xcd]));
        assert_eq!(
            decode_array::<2>("abzd"),
            Err(HexError::InvalidChar { ch: 'z', index: 2 })
        );
        assert_eq!(
            decode_array::<2>("abc"),
            Err(HexError::OddLength { len: 3 })
        );
        assert_eq!(
            decode_array::<2>("abcdef"),
            Err(HexError::WrongLength {
                expected: 2,
                got: 3
            })
        );
        assert_eq!(
            decode_array::<1>("é0"),
            Err(HexError::InvalidChar { ch: 'é', index: 0 })
        );
        assert_eq!(decode_vec("0a0B"), Ok(alloc::vec![10, 11]));
    }
}
