// SearchToDeploy build: dotnet tool restore && dotnet cake --target=<Target>
// Targets live in build/*.cake; each stays thin and calls dotnet or the s2d program.
#load "build/parameters.cake"
#load "build/build.cake"
#load "build/data.cake"
#load "build/deploy.cake"
#load "build/bundle.cake"

RunTarget(Parameters.Target);
