"""What each party can learn about the others' data, measured by mounting the attacks."""
