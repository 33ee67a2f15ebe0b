"""Knowledge collections (issue 25): documents read into passages in the background, retrieved by full-text rank."""
