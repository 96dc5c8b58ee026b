//! Times crc64fast over a file's bytes; prints one JSON line: the CRC and each run's milliseconds.

use std::time::Instant;

fn crc(bytes: &[u8], table: bool) -> u64 {
    let mut d = if table {
        crc64fast::Digest::new_table()
    } else {
        crc64fast::Digest::new()
    };
    d.write(bytes);
    d.sum64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: crc64-bench-native <file> [runs]");
    let runs: usize = args
        .next()
        .map_or(9, |r| r.parse().expect("runs is a number"));
    let bytes = std::fs::read(&path).expect("read the buffer");
    let mut out = Vec::new();
    for (name, table) in [("simd", false), ("table", true)] {
        let value = crc(&bytes, table);
        let ms: Vec<String> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                assert_eq!(crc(std::hint::black_box(&bytes), table), value);
                format!("{:.4}", t.elapsed().as_secs_f64() * 1e3)
            })
            .collect();
        out.push(format!(
            "\"{name}\":{{\"crc\":\"{value}\",\"ms\":[{}]}}",
            ms.join(",")
        ));
    }
    println!("{{{}}}", out.join(","));
}
