
namespace SearchToDeploy.Nas.Spaces;

/// <summary>DARTS-style cells (two inputs, intermediate nodes, normal and reduction cells) or NAS-Bench-201 cells.</summary>
public enum SpaceKind { DartsCell, Nb201 }
