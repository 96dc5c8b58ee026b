//! CRC-64/XZ (OSS's `crc64ecma`): streaming state, chaining, combine, and the decimal wire form.
//!
//! Parameters: poly 0x42F0E1EBA9EA3693 (reflected 0xC96C5795D7870F42), init and xorout all ones.
//! `crc(A ‖ B) == combine(crc(A), crc(B), len(B))`, which is how an append's expected whole-object CRC
//! follows from the object's CRC before it.

/// The reflected ECMA-182 polynomial.
const POLY_REFLECTED: u64 = 0xC96C_5795_D787_0F42;
/// x^0 in the reflected bit order (the top bit is the lowest power).
const X0: u64 = 1 << 63;

/// `x^(2^k) mod P` for k = 0..67, enough for any byte length that fits in a `u64` (8 × 2^64 bits).
const X2N: [u64; 67] = x2n_table();

/// Streaming CRC-64/XZ, optionally continuing the CRC of data that came before.
#[derive(Clone)]
pub struct Crc64 {
    prior: u64,
    len: u64,
    digest: crc64fast::Digest,
}

impl Crc64 {
    /// A CRC of nothing yet (value 0).
    pub fn new() -> Self {
        Self::continuing(0)
    }

    /// A CRC that continues from `prior`, the CRC of the bytes before: after `update(b)`, `value()` is
    /// the CRC of those bytes followed by `b`.
    pub fn continuing(prior: u64) -> Self {
        Self {
            prior,
            len: 0,
            digest: crc64fast::Digest::new(),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.digest.write(bytes);
        self.len += bytes.len() as u64;
    }

    /// How many bytes were fed since construction.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no byte was fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The CRC of the prior data followed by everything fed so far.
    pub fn value(&self) -> u64 {
        combine(self.prior, self.digest.sum64(), self.len)
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crc64")
            .field("len", &self.len)
            .field("value", &self.value())
            .finish()
    }
}

/// The CRC-64/XZ of `bytes`.
pub fn crc64(bytes: &[u8]) -> u64 {
    let mut c = Crc64::new();
    c.update(bytes);
    c.value()
}

/// The CRC of `A ‖ B` from `crc_a = crc(A)`, `crc_b = crc(B)` and `len_b = len(B)`, in O(log len_b).
pub fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    if len_b == 0 {
        return crc_a;
    }
    mul_mod_p(x_pow_8n(len_b), crc_a) ^ crc_b
}

/// Parses the decimal form OSS sends in `x-oss-hash-crc64ecma` (an unsigned 64-bit integer).
pub fn parse_decimal(text: &str) -> Option<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// `a · b mod P` in the reflected representation.
const fn mul_mod_p(a: u64, mut b: u64) -> u64 {
    let mut m = X0;
    let mut product = 0;
    while m != 0 {
        if a & m != 0 {
            product ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 {
            (b >> 1) ^ POLY_REFLECTED
        } else {
            b >> 1
        };
    }
    product
}

const fn x2n_table() -> [u64; 67] {
    let mut table = [0u64; 67];
    let mut p = X0 >> 1; // x^1
    let mut k = 0;
    while k < 67 {
        table[k] = p;
        p = mul_mod_p(p, p);
        k += 1;
    }
    table
}

/// `x^(8·n) mod P`: shifting a CRC over `n` zero bytes.
fn x_pow_8n(mut n: u64) -> u64 {
    let mut p = X0;
    let mut k = 3; // 8·n = n · 2^3
    while n != 0 {
        if n & 1 != 0 {
            p = mul_mod_p(X2N[k], p);
        }
        n >>= 1;
        k += 1;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator so the property tests need no extra crate.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    /// Bit-by-bit reference, straight from the definition.
    fn reference(bytes: &[u8]) -> u64 {
        let mut crc = !0u64;
        for &b in bytes {
            crc ^= u64::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY_REFLECTED
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn check_values() {
        assert_eq!(crc64(b"123456789"), 11_051_210_869_376_104_954);
        assert_eq!(crc64(b""), 0);
        assert_eq!(crc64(b"a"), 0x3302_8477_2E65_2B05);
        assert_eq!(
            crc64(b"This is a test of the emergency broadcast system."),
            0x27DB_187F_C15B_BC72
        );
        assert_eq!(crc64(b"foo"), 10_965_392_271_467_943_256);
        assert_eq!(crc64(b"foobar"), 6_001_682_485_122_215_966);
        assert_eq!(crc64(&vec![b'a'; 10 << 20]), 455_889_540_452_056_977);
    }

    #[test]
    fn continuing_a_prior_crc_equals_the_crc_of_the_concatenation() {
        let mut c = Crc64::continuing(crc64(b"foo"));
        c.update(b"bar");
        assert_eq!(c.value(), 6_001_682_485_122_215_966);
        assert_eq!(
            Crc64::continuing(1234).value(),
            1234,
            "nothing fed keeps the prior CRC"
        );
    }

    #[test]
    fn chained_updates_equal_one_shot() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..300 {
            let n = (rng.next() % 5000) as usize;
            let data = rng.bytes(n);
            let mut c = Crc64::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                let n = 1 + (rng.next() as usize % rest.len());
                c.update(&rest[..n]);
                rest = &rest[n..];
            }
            assert_eq!(c.value(), crc64(&data));
            assert_eq!(c.value(), reference(&data));
            assert_eq!(c.len(), data.len() as u64);
        }
    }

    #[test]
    fn combine_equals_direct_computation_on_random_splits() {
        let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
        for case in 0..5000 {
            let len = (rng.next() % 600) as usize;
            let data = rng.bytes(len);
            let split = if len == 0 {
                0
            } else {
                rng.next() as usize % (len + 1)
            };
            let (a, b) = data.split_at(split);
            assert_eq!(
                combine(crc64(a), crc64(b), b.len() as u64),
                crc64(&data),
                "case {case}: split {split} of {len}"
            );
        }
    }

    #[test]
    fn combine_handles_huge_lengths_consistently() {
        // Shifting by n zero bytes twice equals shifting by 2n: checks the high powers of the table.
        for n in [1u64 << 32, (5u64 << 30) + 7, u64::MAX / 16, u64::MAX] {
            let a = 0x0123_4567_89AB_CDEF;
            let once = combine(combine(a, 0, n / 2), 0, n - n / 2);
            assert_eq!(combine(a, 0, n), once, "n = {n}");
        }
        // crc(zeros(n)) built by combining halves equals the direct CRC.
        let zeros = vec![0u8; 4096];
        assert_eq!(
            combine(crc64(&zeros[..1000]), crc64(&zeros[1000..]), 3096),
            crc64(&zeros)
        );
    }

    #[test]
    fn parses_decimal_wire_form() {
        assert_eq!(
            parse_decimal("18020588380933092773"),
            Some(18_020_588_380_933_092_773)
        );
        assert_eq!(parse_decimal(" 0 "), Some(0));
        for bad in ["", "-1", "0x10", "18446744073709551616", "1e3", "12 3"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }
}
