using System.CommandLine;
using SearchToDeploy.Core.Distributed;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d mpi check</c>: whether data-parallel runs work on this machine or cluster, before a long one.</summary>
public static class MpiCommand
{
    public static Command Create(CliIo io)
    {
        var batch = new Option<int>("--batch") { Description = "Images of the check's batch, shared by the ranks (a multiple of their number)", DefaultValueFactory = _ => 16 };
        var check = new Command("check", "Run under mpirun -np N (or srun): checks that the ranks' averaged gradient equals one process's at the same batch, " +
                                         "that the replicas stay bit-identical, and times allreduces; exit code 1 when a check fails");
        check.Options.Add(batch);
        check.SetAction(r => MpiLaunch.Guard(io, (sync, io) =>
        {
            if (!MpiGradientSync.Launched())
                throw new InputException("not launched by an MPI launcher: run it as mpirun -np 2 s2d mpi check (or srun --mpi=pmix -n 2 s2d mpi check)");
            var result = DataParallelCheck.Run(sync, r.GetValue(batch));
            io.Out.WriteLine($"MPI: {sync.Size} rank{(sync.Size == 1 ? "" : "s")}");
            io.Out.WriteLine(DataParallelCheck.Describe(result, sync.Size, r.GetValue(batch)));
            return result.Passed ? S2dApp.Success : S2dApp.Failure;
        }));
        var cmd = new Command("mpi", "Data-parallel runs over MPI: mpirun -np N s2d search|train ... (see README: Scale-out)");
        cmd.Subcommands.Add(check);
        return cmd;
    }
}
