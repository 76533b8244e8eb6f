using SearchToDeploy.Cli;

return S2dApp.Run(args, Console.Out, Console.Error);
