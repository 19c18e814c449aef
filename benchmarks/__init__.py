"""Speed and accuracy measurements; each script prints a table and writes benchmarks/results/."""
