//! A small, portable random generator (SplitMix64 seeding xoshiro256++), so a seed gives the
//! same tenant on every platform and every dependency version.

/// Mixes one 64-bit word (SplitMix64's finaliser); used to derive seeds and ids.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xoshiro256++: fast, good statistical quality, no dependencies.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// An independent stream for `(seed, stream, index)`: person `i` gets the same data no
    /// matter how many people are generated before or after it.
    pub(crate) fn stream(seed: u64, stream: u64, index: u64) -> Self {
        let mut x = mix(seed ^ mix(stream.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ mix(index)));
        let mut s = [0u64; 4];
        for word in &mut s {
            x = mix(x);
            *word = x;
        }
        Rng { s }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[0]
            .wrapping_add(self.s[3])
            .rotate_left(23)
            .wrapping_add(self.s[0]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the tiny bias is irrelevant here).
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub(crate) fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille
    }

    /// One element of a slice, uniformly.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }

    /// One value of a weighted table `(value, weight)`.
    pub(crate) fn weighted<T: Copy>(&mut self, table: &[(T, u32)]) -> T {
        let total: u32 = table.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total);
        for &(value, weight) in table {
            if roll < weight {
                return value;
            }
            roll -= weight;
        }
        table[table.len() - 1].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(7, 1, 2).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::stream(7, 1, 2).next_u64(),
            Rng::stream(7, 1, 3).next_u64()
        );
        assert_ne!(
            Rng::stream(7, 1, 2).next_u64(),
            Rng::stream(8, 1, 2).next_u64()
        );
    }

    #[test]
    fn weighted_choice_follows_weights() {
        let mut rng = Rng::stream(1, 0, 0);
        let hits = (0..10_000)
            .filter(|_| rng.weighted(&[(true, 3), (false, 7)]))
            .count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
    }
}
