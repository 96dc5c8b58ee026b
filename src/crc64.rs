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
    engine: Engine,
}

/// Natively crc64fast folds with carry-less multiply (PCLMULQDQ / PMULL), several GB/s.
#[cfg(not(target_arch = "wasm32"))]
type Engine = crc64fast::Digest;
/// wasm has no carry-less multiply, so crc64fast would fall back to its tables there.
#[cfg(target_arch = "wasm32")]
type Engine = Folding;

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
            engine: Engine::new(),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.engine.write(bytes);
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
        combine(self.prior, self.engine.sum64(), self.len)
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

/// The two fold periods, in bytes. P = (x+1)² · f15a · f15b · f15c · f17 (four primitive factors of
/// degrees 15, 15, 15, 17), so x^(8·32767) ≡ 1 modulo (x+1)² · f15a · f15b · f15c and x^(8·131071) ≡ 1
/// modulo (x+1)² · f17: XORing the input into a ring of either length keeps its residue modulo that part.
const SHORT: usize = 32_767;
const LONG: usize = 131_071;
/// The CRT idempotent (reflected form): ≡ 0 modulo f15a · f15b · f15c and ≡ 1 modulo f17, so with `a`
/// from the short ring and `b` from the long one, `a ^ IDEMPOTENT·(a ^ b)` agrees with each where it is
/// right, and with both modulo (x+1)², which both rings keep.
const IDEMPOTENT: u64 = 0x273D_4CFD_DDF5_1087;
/// Below this many bytes the tables are as fast: reducing the rings at the end is a table CRC of 160 KiB.
const FOLD_MIN: u64 = 256 << 10;
/// Rows of input summed per pass over a ring (`xor_rows` unrolls exactly this many).
const ROWS: usize = 8;
const _: () = assert!(ROWS == 8);
/// Folding this many bytes at once gives each ring passes of [`ROWS`] rows.
const STAGE: usize = 1 << 20;

/// CRC-64/XZ for targets without carry-less multiply (wasm32).
///
/// Short inputs go through slice-by-16 tables. Long ones are XORed into two rings (about one load and one
/// XOR per input word and ring, no lookups); `sum64` reduces each ring with the tables and joins the two
/// residues by CRT. In Node that runs at about six times the tables' speed, which their lookups bound.
#[derive(Clone, Debug)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Folding {
    /// The CRC register (initial all ones, before the final inversion) over the bytes the tables took.
    register: u64,
    /// How many bytes the tables took.
    table_len: u64,
    /// Everything after those bytes, once the input is long enough to pay for the rings.
    folds: Option<Folds>,
}

/// Byte `i` of the folded stretch is XORed into `rings[i % SHORT]` and `rings[SHORT + i % LONG]`.
#[derive(Clone)]
struct Folds {
    rings: Box<[u8]>,
    /// How many bytes went into the rings.
    len: u64,
    /// Short writes gather here until there are [`STAGE`] bytes: a pass of one row loads and stores the
    /// ring for every input word, which costs more than copying the input once.
    staged: Vec<u8>,
}

impl std::fmt::Debug for Folds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folds")
            .field("len", &self.len)
            .field("staged", &self.staged.len())
            .finish()
    }
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl Folding {
    fn new() -> Self {
        Self {
            register: !0,
            table_len: 0,
            folds: None,
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.folds.is_none() && self.table_len + bytes.len() as u64 >= FOLD_MIN {
            self.start_folding();
        }
        match &mut self.folds {
            Some(folds) => folds.absorb(bytes),
            None => {
                self.register = table_update(self.register, bytes);
                self.table_len += bytes.len() as u64;
            }
        }
    }

    /// Sends every later byte to the rings, whatever the input length.
    fn start_folding(&mut self) {
        self.folds.get_or_insert_with(|| Folds {
            rings: vec![0; SHORT + LONG].into_boxed_slice(),
            len: 0,
            staged: Vec::new(),
        });
    }

    /// The CRC-64/XZ of everything written.
    fn sum64(&self) -> u64 {
        match &self.folds {
            None => !self.register,
            Some(folds) => !(mul_mod_p(x_pow_8n(folds.total()), self.register) ^ folds.residue()),
        }
    }
}

impl Folds {
    fn absorb(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.staged.is_empty() && bytes.len() >= STAGE {
                self.fold(bytes);
                return;
            }
            let take = (STAGE - self.staged.len()).min(bytes.len());
            self.staged.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.staged.len() == STAGE {
                let staged = std::mem::take(&mut self.staged);
                self.fold(&staged);
                self.staged = staged;
                self.staged.clear();
            }
        }
    }

    fn fold(&mut self, bytes: &[u8]) {
        let (short, long) = self.rings.split_at_mut(SHORT);
        fold_into(short, (self.len % SHORT as u64) as usize, bytes);
        fold_into(long, (self.len % LONG as u64) as usize, bytes);
        self.len += bytes.len() as u64;
    }

    /// How many bytes were absorbed.
    fn total(&self) -> u64 {
        self.len + self.staged.len() as u64
    }

    /// The absorbed bytes as a polynomial times x^64 mod P, i.e. their CRC with a zero register and no
    /// final inversion.
    fn residue(&self) -> u64 {
        if !self.staged.is_empty() {
            let mut all = Self {
                rings: self.rings.clone(),
                len: self.len,
                staged: Vec::new(),
            };
            all.fold(&self.staged);
            return all.residue();
        }
        let (short, long) = self.rings.split_at(SHORT);
        let a = ring_residue(short, self.len);
        let b = ring_residue(long, self.len);
        a ^ mul_mod_p(IDEMPOTENT, a ^ b)
    }
}

/// A ring read as the input it stands for: the byte folded last is the lowest-degree one, so the ring
/// starts at the slot after it.
fn ring_residue(ring: &[u8], len: u64) -> u64 {
    let next = (len % ring.len() as u64) as usize;
    table_update(table_update(0, &ring[next..]), &ring[..next])
}

/// XORs `data` into `ring` as if `data[0]` went to slot `at` and the ring repeated forever.
///
/// Column by column: each arc of the ring, `[at, period)` and `[0, at)`, takes up to [`ROWS`] rows of
/// `data` per pass, so the ring is loaded and stored once per [`ROWS`] input words.
fn fold_into(ring: &mut [u8], at: usize, data: &[u8]) {
    let period = ring.len();
    for (start, skip, width) in [(at, 0, period - at), (0, period - at, at)] {
        let Some(data) = data.get(skip..) else {
            continue;
        };
        // Rows that span the whole arc, then what there is of the next one.
        let full = match data.len().checked_sub(width) {
            Some(spare) if width > 0 => spare / period + 1,
            _ => 0,
        };
        let mut row = 0;
        while row < full {
            let rows = (full - row).min(ROWS);
            xor_rows(
                &mut ring[start..start + width],
                &data[row * period..],
                period,
                rows,
            );
            row += rows;
        }
        let rest = data.len().saturating_sub(row * period).min(width);
        if rest > 0 {
            xor_rows(
                &mut ring[start..start + rest],
                &data[row * period..],
                period,
                1,
            );
        }
    }
}

/// `dst[j] ^= src[j] ^ src[j + stride] ^ … ^ src[j + (rows-1)·stride]` for every `j < dst.len()`.
///
/// Word by word through unaligned loads: plain indexing keeps its bounds checks at opt-level "z", and
/// this loop is nearly the whole cost of a long CRC.
fn xor_rows(dst: &mut [u8], src: &[u8], stride: usize, rows: usize) {
    let n = dst.len();
    assert!((1..=ROWS).contains(&rows) && n <= stride && src.len() >= (rows - 1) * stride + n);
    let out = dst.as_mut_ptr();
    let src = src.as_ptr();
    // SAFETY: every access below is at j < n = dst.len() in `dst`, or at r·stride + j with r < rows in
    // `src`; word accesses have j + 8 <= n, so they end by (rows-1)·stride + n <= src.len().
    unsafe {
        let row = |r: usize, j: usize| src.add(r * stride + j).cast::<u64>().read_unaligned();
        let mut j = 0;
        if rows == ROWS {
            // The common case, unrolled: eight independent loads per word.
            while j + 8 <= n {
                let word = out.add(j).cast::<u64>();
                let v = row(0, j) ^ row(1, j) ^ row(2, j) ^ row(3, j);
                let w = row(4, j) ^ row(5, j) ^ row(6, j) ^ row(7, j);
                word.write_unaligned(word.read_unaligned() ^ v ^ w);
                j += 8;
            }
        }
        while j + 8 <= n {
            let word = out.add(j).cast::<u64>();
            let mut v = word.read_unaligned();
            for r in 0..rows {
                v ^= row(r, j);
            }
            word.write_unaligned(v);
            j += 8;
        }
        while j < n {
            let mut b = *out.add(j);
            for r in 0..rows {
                b ^= *src.add(r * stride + j);
            }
            *out.add(j) = b;
            j += 1;
        }
    }
}

/// Slice-by-16 tables: `TABLES[k][b]` is byte `b` followed by `k` zero bytes, through the register.
/// Built on first use, so they cost 32 KiB of memory but nothing in the shipped module.
fn tables() -> &'static [[u64; 256]; 16] {
    static TABLES: std::sync::OnceLock<[[u64; 256]; 16]> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = [[0u64; 256]; 16];
        for (b, entry) in t[0].iter_mut().enumerate() {
            let mut c = b as u64;
            for _ in 0..8 {
                c = (c >> 1) ^ (POLY_REFLECTED & (c & 1).wrapping_neg());
            }
            *entry = c;
        }
        for k in 1..16 {
            for b in 0..256 {
                let prev = t[k - 1][b];
                t[k][b] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            }
        }
        t
    })
}

/// Runs the CRC register over `bytes`, 16 at a time.
fn table_update(mut register: u64, bytes: &[u8]) -> u64 {
    let t = tables();
    let blocks = bytes.len() / 16 * 16;
    let at = bytes.as_ptr();
    let mut i = 0;
    while i < blocks {
        // SAFETY: i + 16 <= blocks <= bytes.len(). Pointer loads, as slice conversions are not all
        // inlined at opt-level "z", which costs a third of the speed.
        let (lo, hi) = unsafe {
            let word = |k: usize| at.add(i + k).cast::<u64>().read_unaligned();
            (register ^ u64::from_le(word(0)), u64::from_le(word(8)))
        };
        register = lookup(t, 15, lo, 0)
            ^ lookup(t, 14, lo, 1)
            ^ lookup(t, 13, lo, 2)
            ^ lookup(t, 12, lo, 3)
            ^ lookup(t, 11, lo, 4)
            ^ lookup(t, 10, lo, 5)
            ^ lookup(t, 9, lo, 6)
            ^ lookup(t, 8, lo, 7)
            ^ lookup(t, 7, hi, 0)
            ^ lookup(t, 6, hi, 1)
            ^ lookup(t, 5, hi, 2)
            ^ lookup(t, 4, hi, 3)
            ^ lookup(t, 3, hi, 4)
            ^ lookup(t, 2, hi, 5)
            ^ lookup(t, 1, hi, 6)
            ^ lookup(t, 0, hi, 7);
        i += 16;
    }
    for &b in &bytes[blocks..] {
        register = (register >> 8) ^ t[0][((register ^ u64::from(b)) & 0xFF) as usize];
    }
    register
}

/// `tables[k]` at byte `i` of `word`.
#[inline(always)]
fn lookup(tables: &[[u64; 256]; 16], k: usize, word: u64, i: u32) -> u64 {
    tables[k][((word >> (8 * i)) & 0xFF) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::XorShift;

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
    fn crc64_matches_the_published_check_values() {
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

    fn crc64fast(bytes: &[u8]) -> u64 {
        let mut d = ::crc64fast::Digest::new();
        d.write(bytes);
        d.sum64()
    }

    /// The wasm32 engine, whichever path the length picks.
    fn folding(bytes: &[u8]) -> u64 {
        let mut f = Folding::new();
        f.write(bytes);
        f.sum64()
    }

    /// The wasm32 engine with the rings from the first byte, so short inputs exercise them too.
    fn folded(bytes: &[u8]) -> u64 {
        let mut f = Folding::new();
        f.start_folding();
        f.write(bytes);
        f.sum64()
    }

    #[test]
    fn the_idempotent_splits_p_into_the_two_ring_periods() {
        let one = X0;
        // x^(8·SHORT) - 1 vanishes where IDEMPOTENT is 1, x^(8·LONG) - 1 where it is 0.
        assert_eq!(mul_mod_p(one ^ IDEMPOTENT, x_pow_8n(SHORT as u64) ^ one), 0);
        assert_eq!(mul_mod_p(IDEMPOTENT, x_pow_8n(LONG as u64) ^ one), 0);
        assert_eq!(mul_mod_p(IDEMPOTENT, IDEMPOTENT), IDEMPOTENT);
        assert!(IDEMPOTENT != 0 && IDEMPOTENT != one);
    }

    #[test]
    fn fold_into_equals_a_byte_by_byte_ring_for_every_shape() {
        let mut rng = XorShift(0x6A09_E667_F3BC_C908);
        for case in 0..20_000 {
            let period = 1 + (rng.next() % 40) as usize;
            let at = (rng.next() % period as u64) as usize;
            let len = (rng.next() % 500) as usize;
            let data = rng.bytes(len);
            let mut ring = rng.bytes(period);
            let mut want = ring.clone();
            for (i, b) in data.iter().enumerate() {
                want[(at + i) % period] ^= b;
            }
            fold_into(&mut ring, at, &data);
            assert_eq!(
                ring,
                want,
                "case {case}: period {period}, at {at}, {} bytes",
                data.len()
            );
        }
    }

    #[test]
    fn every_short_length_matches_the_reference_and_crc64fast() {
        for seed in [1u64, 0x5DEE_CE66_D1CE_4E5B, 0xA076_1D64_78BD_642F] {
            let mut rng = XorShift(seed);
            let buf = rng.bytes(4096 + 16);
            for len in 0..=4096 {
                let start = (rng.next() % 16) as usize;
                let data = &buf[start..start + len];
                let want = reference(data);
                assert_eq!(
                    crc64fast(data),
                    want,
                    "crc64fast, seed {seed:#x}, len {len}"
                );
                assert_eq!(folding(data), want, "tables, seed {seed:#x}, len {len}");
                assert_eq!(crc64(data), want, "Crc64, seed {seed:#x}, len {len}");
            }
        }
    }

    #[test]
    fn the_rings_match_the_reference_at_short_lengths() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        let buf = rng.bytes(4096 + 16);
        // Every length up to 300, then a prime step (all residues mod 8 and 16): each check reduces
        // 160 KiB of rings, slow in a debug build.
        for len in (0..=300).chain((301..=4096).step_by(37)).chain([4096]) {
            let start = (rng.next() % 16) as usize;
            let data = &buf[start..start + len];
            assert_eq!(folded(data), reference(data), "len {len}");
        }
    }

    #[test]
    fn large_buffers_and_ring_boundaries_match_crc64fast() {
        let mut rng = XorShift(0x0123_4567_89AB_CDEF);
        let buf = rng.bytes((5 << 20) + 64);
        let mut lens = vec![
            5 << 20,
            (3 << 20) + 12_345,
            FOLD_MIN as usize - 1,
            FOLD_MIN as usize,
        ];
        for period in [SHORT, LONG] {
            for rows in [1, 2, ROWS - 1, ROWS, ROWS + 1, 2 * ROWS + 1] {
                for delta in [-9i64, -1, 0, 1, 8] {
                    lens.push((rows as i64 * period as i64 + delta) as usize);
                }
            }
        }
        for len in lens {
            let start = (rng.next() % 64) as usize;
            let data = &buf[start..start + len];
            let want = crc64fast(data);
            assert_eq!(folding(data), want, "len {len}");
            assert_eq!(folded(data), want, "len {len}");
        }
        let data = &buf[3..(4 << 20) + 3];
        assert_eq!(
            folding(data),
            reference(data),
            "4 MiB against the reference"
        );
    }

    #[test]
    fn chunked_writes_equal_one_shot_across_both_paths() {
        let mut rng = XorShift(0xB5AD_4ECE_DA1C_E2A9);
        let data = rng.bytes(3 << 20);
        let want = crc64fast(&data);
        for round in 0..12 {
            // From tiny writes to writes of several ring lengths, so the switch to the rings and the
            // ring offsets land everywhere.
            let max = [7usize, 100, 5000, 40_000, 300_000, 2 << 20][round % 6];
            let mut engine = Folding::new();
            let mut public = Crc64::continuing(0);
            let mut prefix = ::crc64fast::Digest::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                let n = 1 + (rng.next() as usize % max).min(rest.len() - 1);
                engine.write(&rest[..n]);
                public.update(&rest[..n]);
                prefix.write(&rest[..n]);
                rest = &rest[n..];
                // Reading the value midway (staged bytes and all) must not disturb what follows;
                // a handful of times per round, as each read reduces 160 KiB of rings.
                if rng.next() % ((1 + data.len() / max) as u64) < 4 {
                    assert_eq!(engine.sum64(), prefix.sum64(), "round {round}, midway");
                }
            }
            assert_eq!(engine.sum64(), want, "round {round}, writes up to {max}");
            assert_eq!(public.value(), want, "round {round}");
            assert_eq!(public.len(), data.len() as u64);
        }
    }

    #[test]
    fn continuing_works_past_the_ring_threshold() {
        let mut rng = XorShift(0x94D0_49BB_1331_11EB);
        let data = rng.bytes(1 << 20);
        let (a, b) = data.split_at(123_457);
        let mut c = Crc64::continuing(crc64(a));
        c.update(b);
        assert_eq!(c.value(), crc64fast(&data));
        let mut f = Folding::new();
        f.write(a);
        f.write(b);
        assert_eq!(combine(folding(a), folding(b), b.len() as u64), f.sum64());
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
