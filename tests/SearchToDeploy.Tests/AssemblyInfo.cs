// Torch's random generator (and its thread count) is process-wide: test classes running side by side would draw
// from it between another test's seeding and its draws, and the bit-identical resume tests would see different
// numbers. The tests therefore run one class at a time (torch itself uses every core).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
