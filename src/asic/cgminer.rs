//! cgminer's forms: its midstate byte order and getwork data (each header word
//! byte-swapped); the reversed midstate form Icarus and the BM1397 share.

use super::{AsicError, array, exact};
use crate::bytes::{reversed, swap_words};
use crate::{Header, Midstate};

// ---------------------------------------------------------------------------------------
// Midstate byte orders of the devices
// ---------------------------------------------------------------------------------------

/// The midstate from its big-endian state words in reverse word order (Icarus work, the
/// BM1397 job packet): that is cgminer's little-endian-words form with all 32 bytes
/// reversed.
pub(super) const fn midstate_from_reversed(bytes: &[u8; 32]) -> Midstate {
    Midstate::from_le_words_bytes(reversed(*bytes))
}

/// The inverse of [`midstate_from_reversed`].
pub(super) const fn midstate_to_reversed(m: &Midstate) -> [u8; 32] {
    reversed(m.to_le_words_bytes())
}

/// Reverses the order of the three 4-byte words of header bytes 64..76 (Icarus), keeping
/// the bytes inside each word. Its own inverse.
pub(super) const fn reverse_words12(t: &[u8; 12]) -> [u8; 12] {
    [
        t[8], t[9], t[10], t[11], t[4], t[5], t[6], t[7], t[0], t[1], t[2], t[3],
    ]
}

/// The midstate from cgminer's 32-byte form: the state words, each little-endian, in
/// order ([`Midstate::from_le_words_bytes`]), with a length check.
///
/// ```
/// use sha256d_engine::asic::midstate_from_cgminer;
/// let m = midstate_from_cgminer(&[1, 0, 0, 0].repeat(8)).unwrap();
/// assert_eq!(m.words(), [1; 8]);
/// assert!(midstate_from_cgminer(&[0; 31]).is_err());
/// ```
///
/// # Errors
///
/// [`AsicError::WrongLength`] unless `bytes` is 32 bytes long.
pub fn midstate_from_cgminer(bytes: &[u8]) -> Result<Midstate, AsicError> {
    let b = exact::<32>(bytes, "cgminer midstate")?;
    Ok(Midstate::from_le_words_bytes(*b))
}

// ---------------------------------------------------------------------------------------
// cgminer getwork data
// ---------------------------------------------------------------------------------------

/// The SHA-256 padding of an 80-byte message: bytes 80..128 of its two blocks.
const GETWORK_PADDING: [u8; 48] = {
    let mut p = [0u8; 48];
    p[0] = 0x80;
    // 640 bits, big-endian, in the last bytes.
    p[46] = 0x02;
    p[47] = 0x80;
    p
};

/// The header in cgminer's (getwork) data: each 32-bit word of the header byte-swapped.
/// Takes the 80 header bytes, or the full 128 bytes with the SHA-256 padding (checked).
///
/// ```
/// use sha256d_engine::asic::{header_from_getwork, header_to_getwork};
/// use sha256d_engine::Header;
/// let h = Header::from_bytes(&core::array::from_fn(|i| i as u8));
/// let data = header_to_getwork(&h);
/// assert_eq!(&data[..4], &[3, 2, 1, 0]);
/// assert_eq!(header_from_getwork(&data), Ok(h));
/// assert_eq!(header_from_getwork(&data[..80]), Ok(h));
/// assert!(header_from_getwork(&data[..100]).is_err());
/// ```
///
/// # Errors
///
/// [`AsicError`] for data of the wrong length or with bytes 80..128 that are not the
/// SHA-256 padding of an 80-byte message.
pub fn header_from_getwork(data: &[u8]) -> Result<Header, AsicError> {
    match data.len() {
        80 => {}
        128 => {
            let padding: [u8; 48] = swap_words(array::<48>(&data[80..]));
            if padding != GETWORK_PADDING {
                return Err(AsicError::GetworkPadding);
            }
        }
        got => {
            return Err(AsicError::WrongLength {
                what: "cgminer getwork data (80 bytes, or 128 with padding)",
                expected: 128,
                got,
            });
        }
    }
    Ok(Header::from_bytes(&swap_words(array::<80>(data))))
}

/// cgminer's 128-byte getwork data for a header: the header and its SHA-256 padding,
/// each 32-bit word byte-swapped.
pub fn header_to_getwork(header: &Header) -> [u8; 128] {
    let mut plain = [0u8; 128];
    plain[..80].copy_from_slice(&header.to_bytes());
    plain[80..].copy_from_slice(&GETWORK_PADDING);
    swap_words(plain)
}
