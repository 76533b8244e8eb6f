using System.Runtime.InteropServices;

namespace SearchToDeploy.Core.Distributed;

/// <summary>
/// A thin binding to Open MPI's C library (libmpi.so.40, Open MPI 4 and 5 as Debian and most clusters ship it):
/// the few calls data-parallel runs need. MPI.NET 1.4 is bound to Microsoft MPI (msmpi.dll) and does not load on
/// Linux, hence this. Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of global
/// symbols in the library; MPI_IN_PLACE is the address 1.
/// </summary>
internal static unsafe partial class MpiNative
{
    public const string Library = "libmpi.so.40";
    private static nint _lib;

    public static nint CommWorld { get; private set; }
    public static nint Float { get; private set; }
    public static nint Double { get; private set; }
    public static nint Sum { get; private set; }
    public static nint Max { get; private set; }
    public static nint Min { get; private set; }
    private static readonly void* InPlace = (void*)1;

    /// <summary>Loads the library and its handles; false (with the reason) when Open MPI is not installed.</summary>
    public static bool TryLoad(out string? error)
    {
        error = null;
        if (_lib != 0) return true;
        if (!NativeLibrary.TryLoad(Library, out var lib))
        {
            error = $"{Library} not found: install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev)";
            return false;
        }
        CommWorld = NativeLibrary.GetExport(lib, "ompi_mpi_comm_world");
        Float = NativeLibrary.GetExport(lib, "ompi_mpi_float");
        Double = NativeLibrary.GetExport(lib, "ompi_mpi_double");
        Sum = NativeLibrary.GetExport(lib, "ompi_mpi_op_sum");
        Max = NativeLibrary.GetExport(lib, "ompi_mpi_op_max");
        Min = NativeLibrary.GetExport(lib, "ompi_mpi_op_min");
        _lib = lib;
        return true;
    }

    [LibraryImport(Library)] private static partial int MPI_Init(int* argc, byte*** argv);
    [LibraryImport(Library)] private static partial int MPI_Initialized(int* flag);
    [LibraryImport(Library)] private static partial int MPI_Finalized(int* flag);
    [LibraryImport(Library)] private static partial int MPI_Comm_rank(nint comm, int* rank);
    [LibraryImport(Library)] private static partial int MPI_Comm_size(nint comm, int* size);
    [LibraryImport(Library)] private static partial int MPI_Allreduce(void* send, void* receive, int count, nint type, nint op, nint comm);
    [LibraryImport(Library)] private static partial int MPI_Barrier(nint comm);
    [LibraryImport(Library)] private static partial int MPI_Abort(nint comm, int code);
    [LibraryImport(Library)] private static partial int MPI_Finalize();

    private static void Check(int rc, string call)
    {
        if (rc != 0) throw new InvalidOperationException($"{call} failed (MPI error {rc})");
    }

    public static void Init()
    {
        int flag;
        Check(MPI_Initialized(&flag), "MPI_Initialized");
        if (flag == 0) Check(MPI_Init(null, null), "MPI_Init");
    }

    public static int Rank() { int r; Check(MPI_Comm_rank(CommWorld, &r), "MPI_Comm_rank"); return r; }
    public static int Size() { int s; Check(MPI_Comm_size(CommWorld, &s), "MPI_Comm_size"); return s; }

    /// <summary>In place: each element becomes its reduction (<paramref name="op"/>) over all ranks.</summary>
    public static void Allreduce(Span<float> values, nint op)
    {
        fixed (float* p = values) Check(MPI_Allreduce(InPlace, p, values.Length, Float, op, CommWorld), "MPI_Allreduce");
    }

    public static void Allreduce(Span<double> values, nint op)
    {
        fixed (double* p = values) Check(MPI_Allreduce(InPlace, p, values.Length, Double, op, CommWorld), "MPI_Allreduce");
    }

    public static void Barrier() => Check(MPI_Barrier(CommWorld), "MPI_Barrier");

    /// <summary>Ends every rank of the job (the launcher tears the others down).</summary>
    public static void Abort(int code) => MPI_Abort(CommWorld, code);

    public static void Shutdown()
    {
        int init, done;
        Check(MPI_Initialized(&init), "MPI_Initialized");
        Check(MPI_Finalized(&done), "MPI_Finalized");
        if (init != 0 && done == 0) Check(MPI_Finalize(), "MPI_Finalize");
    }
}
