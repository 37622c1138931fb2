"""This project's Model Monitor engine: Deequ-style analyzers that reproduce AWS's baseline files.

AWS's analyzer image (`sagemaker-model-monitor-analyzer`) is a Spark job built on Deequ 2.0.2. This
package recomputes what it writes from the same input, byte for byte where the algorithm is known
(../shared/reference/FORMATS.md §0): Deequ's type regexes, its KLL compactor fed in file order,
Spark's streaming variance, HLL++ over XXH64 of the raw cell text, Scala's HashMap order for the
categorical buckets, Java's number formatting and Jackson's pretty printer.

Layout, as Deequ's: `analyzers/` holds one analyzer per statistic, each with a mergeable state;
`readers/` streams a dataset in bounded-memory batches; `profile.py` runs every analyzer in one
pass; `statistics.py` and `constraints.py` write Model Monitor's files; `checks/` compares a
window against a baseline. The public entry points are in `api.py`.
"""
