// Package suggest finds the name a user most likely meant.
package suggest

import "strings"

// Closest returns the candidate nearest to input, or "" when none is close
// enough to be a plausible typo. A candidate that ends with ".input" or
// contains input wins outright ("received" -> "email.received").
func Closest(input string, candidates []string) string {
	in := strings.ToLower(strings.TrimSpace(input))
	if in == "" {
		return ""
	}
	for _, c := range candidates {
		if strings.HasSuffix(strings.ToLower(c), "."+in) {
			return c
		}
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		d := distance(in, strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	// Allow about one edit in three characters, and at least two.
	if bestDist >= 0 && bestDist <= max(2, len(in)/3) {
		return best
	}
	for _, c := range candidates {
		if len(in) >= 3 && strings.Contains(strings.ToLower(c), in) {
			return c
		}
	}
	return ""
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance, so
// that a swapped pair of letters ("recieved") counts as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
