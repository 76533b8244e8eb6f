using System.CommandLine;
using SearchToDeploy.Cli.Commands;

namespace SearchToDeploy.Cli;

/// <summary>
/// The s2d command line. Exit codes: 0 success, 1 failure, 2 bad usage or bad input (a missing or malformed file,
/// folder or argument), 3 a model under its accuracy gate.
/// </summary>
public static class S2dApp
{
    public const int Success = 0, Failure = 1, BadInput = 2, GateFailed = 3;
    /// <summary>s2d pipeline: a stage stopped before its end (a training's stop-after); running it again goes on.</summary>
    public const int Stopped = 4;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // The allocator settings suit training's large, repeating tensors; the HTTP server's small ones keep the default.
        if (args.FirstOrDefault() is "search" or "train" or "pipeline" or "bench") SearchToDeploy.Core.Torch.NativeAllocator.ConfigureForTraining();
        else if (args.FirstOrDefault() is "serve") SearchToDeploy.Core.Torch.NativeAllocator.ConfigureForServing();
        var io = new CliIo(output, error);
        // A host libtorch ($S2D_LIBTORCH) is loaded before anything touches TorchSharp, so that a bad folder or a version
        // mismatch is one clear error rather than TorchSharp's search for NuGet packages. The server runs on ONNX
        // Runtime alone and does not map libtorch.
        if (!WantsHelp(args) && args.FirstOrDefault() is not "serve" && io.Guard(() => { SearchToDeploy.Core.Torch.TorchBackend.LoadFromEnvironment(); return Success; }) is var loaded && loaded != Success)
            return loaded;
        if (SearchToDeploy.Core.Torch.TorchBackend.HostFolderMissing && !WantsHelp(args) && args.FirstOrDefault() is "search" or "train" or "export" or "model" or "pipeline" or "mpi" or "bench")
        {
            error.WriteLine($"error: {SearchToDeploy.Core.Torch.TorchBackend.MissingHostMessage}");
            return BadInput;
        }
        var root = new RootCommand("SearchToDeploy: differentiable architecture search with random features (RF-DARTS, RF-PCDARTS), " +
                                   "retraining, ONNX export, validation and serving.");
        root.Subcommands.Add(DataCommands.Create(io));
        root.Subcommands.Add(SearchCommand.Create(io));
        root.Subcommands.Add(Nb201Command.Create(io));
        root.Subcommands.Add(TrainCommand.Create(io));
        root.Subcommands.Add(ModelCommand.Create(io));
        root.Subcommands.Add(DeployCommands.Export(io));
        root.Subcommands.Add(DeployCommands.Validate(io));
        root.Subcommands.Add(PredictCommand.Create(io));
        root.Subcommands.Add(DeployCommands.Serve(io));
        root.Subcommands.Add(PipelineCommand.Create(io));
        root.Subcommands.Add(MpiCommand.Create(io));
        root.Subcommands.Add(SweepCommand.Create(io));
        root.Subcommands.Add(BenchCommands.Create(io));
        root.Subcommands.Add(ReportCommand.Create(io));
        root.Subcommands.Add(DoctorCommand.Create(io));

        OptionRanges.Apply(root);
        OutputFiles.Apply(root);
        OptionAliases.Apply(root);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && !WantsHelp(args))
        {
            foreach (var e in parsed.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine($"Run 's2d {string.Join(' ', CommandPath(parsed))} --help' for usage.".Replace("  ", " "));
            return BadInput;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }

    private static bool WantsHelp(string[] args) => args.Any(a => a is "--help" or "-h" or "-?");

    private static IEnumerable<string> CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var c = parsed.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            if (c.Command is not RootCommand) names.Insert(0, c.Command.Name);
        return names;
    }
}
