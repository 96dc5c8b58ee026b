//! Sorts that stand in for the standard ones, whose stable sort (driftsort with its quicksort and small-sort
//! kernels) costs 3.9 kB raw of wasm. Measured: the spool's one standard sort made the shipped .wasm 1.9 kB larger
//! gzipped than `heap_sort` in its place.

/// Sorts the few headers or query items a signature covers. An insertion sort: on tens of items it is as
/// fast as the standard sorts and a fraction of their size in wasm.
pub(crate) fn sort_small<T>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// Sorts `items` in O(n log n) without allocating: for lists that may be long (a spool's segments), where an
/// insertion sort could take quadratic time. Not stable: for items ordered as wholes, where equal ones are alike.
pub(crate) fn heap_sort<T: Ord>(items: &mut [T]) {
    // Moves the item at `root` down until the heap in items[..end] holds again.
    let sift_down = |v: &mut [T], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && v[child] < v[child + 1] {
            child += 1;
        }
        if v[root] >= v[child] {
            break;
        }
        v.swap(root, child);
        root = child;
    };
    let n = items.len();
    for i in (0..n / 2).rev() {
        sift_down(items, i, n);
    }
    for end in (1..n).rev() {
        items.swap(0, end);
        sift_down(items, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every arrangement of up to `max_len` items drawn from `values` values, duplicates included.
    fn arrangements(max_len: u32, values: u32) -> impl Iterator<Item = Vec<u32>> {
        (0..=max_len).flat_map(move |len| {
            (0..values.pow(len))
                .map(move |code| (0..len).map(|i| code / values.pow(i) % values).collect())
        })
    }

    #[track_caller]
    fn assert_sorts_as_std<T: Ord + Clone + std::fmt::Debug>(
        items: Vec<T>,
        sort: impl Fn(&mut [T]),
    ) {
        let mut mine = items.clone();
        sort(&mut mine);
        let mut std = items;
        std.sort();
        assert_eq!(mine, std);
    }

    #[test]
    fn sort_small_orders_as_the_std_sort() {
        for items in arrangements(6, 3) {
            assert_sorts_as_std(items, |v| sort_small(v, |a, b| a < b));
        }
    }

    #[test]
    fn heap_sort_orders_as_the_std_sort() {
        for items in arrangements(7, 4) {
            assert_sorts_as_std(items, heap_sort);
        }
        let mut rng = crate::test_rng::XorShift(7);
        for len in [100, 1000, 4097] {
            let items: Vec<u64> = (0..len).map(|_| rng.next() % 500).collect();
            assert_sorts_as_std(items, heap_sort);
        }
    }
}
