%% Erlang distribution throughput and CPU cost, for `npm run bench` (bench/erlang-dist.ts).
%%
%% Runs on the sending node:
%%   erl ... -pa DIR -run distbench main Peer Bytes MsgBytes Window Watch
%% Peer: the receiving node (this module must be in its code path too); Bytes: timed volume;
%% MsgBytes: size of each binary message; Window: messages in flight before the first ack;
%% Watch: more OS processes to charge, "label=pid,..." ("none" for none), e.g. the WireGuard daemons.
%% Both VMs are charged too (beam_tx, beam_rx). CPU is utime+stime from /proc/<pid>/stat, all
%% threads, before and after the timed part; a warm-up (16 MiB) comes first and is not timed.
%% Prints one line "RESULT {json}" and halts (status 0), or "FAILED ..." (status 1).
-module(distbench).
-export([main/1, receiver/1]).

main([PeerS, BytesS, MsgS, WindowS, WatchS]) ->
    Status =
        try run(list_to_atom(PeerS), list_to_integer(BytesS), list_to_integer(MsgS),
                list_to_integer(WindowS), watch(WatchS)) of
            Json -> io:format("RESULT ~s~n", [Json]), 0
        catch Class:Reason:Stack ->
            io:format("FAILED ~p:~p ~p~n", [Class, Reason, Stack]), 1
        end,
    halt(Status).

run(Peer, Bytes, MsgBytes, Window, Watch0) ->
    ok = reach(Peer, 30000),
    Watch = [{"beam_tx", list_to_integer(os:getpid())},
             {"beam_rx", list_to_integer(rpc:call(Peer, os, getpid, []))} | Watch0],
    Msg = binary:copy(<<16#5a>>, MsgBytes),
    Rx = spawn_link(Peer, ?MODULE, receiver, [self()]),
    WarmCount = (16 * 1024 * 1024) div MsgBytes,
    WarmBytes = WarmCount * MsgBytes,
    WarmBytes = send(Rx, Msg, WarmCount, Window),
    Count = Bytes div MsgBytes,
    Before = ticks(Watch),
    T0 = erlang:monotonic_time(microsecond),
    Received = send(Rx, Msg, Count, Window),
    T1 = erlang:monotonic_time(microsecond),
    After = ticks(Watch),
    unlink(Rx),
    Rx ! stop,
    Sent = Count * MsgBytes,
    Sent = Received,
    Hz = clock_ticks(),
    Cpu = [{L, (proplists:get_value(L, After) - proplists:get_value(L, Before)) / Hz} || {L, _} <- Watch],
    Secs = (T1 - T0) / 1.0e6,
    iolist_to_binary(
      ["{\"bytes\":", integer_to_list(Sent),
       ",\"seconds\":", num(Secs),
       ",\"msg_bytes\":", integer_to_list(MsgBytes),
       ",\"window\":", integer_to_list(Window),
       ",\"cpu_seconds\":{", lists:join(",", [["\"", L, "\":", num(S)] || {L, S} <- Cpu]), "}}"]).

%% Sends Count messages, at most Window unacknowledged; returns the bytes the receiver counted.
send(Rx, Msg, Count, Window) ->
    Ref = make_ref(),
    Rx ! {begin_batch, Ref},
    First = min(Count, Window),
    lists:foreach(fun(_) -> Rx ! {data, Msg} end, lists:seq(1, First)),
    credit(Rx, Msg, Count - First, First),
    Rx ! {end_batch, self(), Ref},
    receive {counted, Ref, N} -> N after 120000 -> error(no_count) end.

credit(_Rx, _Msg, 0, 0) -> ok;
credit(Rx, Msg, Left, InFlight) ->
    receive
        ack when Left > 0 -> Rx ! {data, Msg}, credit(Rx, Msg, Left - 1, InFlight);
        ack -> credit(Rx, Msg, 0, InFlight - 1)
    after 60000 -> error({stalled, Left, InFlight})
    end.

receiver(Sender) -> count(Sender, 0).

count(Sender, N) ->
    receive
        {data, Msg} -> Sender ! ack, count(Sender, N + byte_size(Msg));
        {begin_batch, _} -> count(Sender, 0);
        {end_batch, From, Ref} -> From ! {counted, Ref, N}, count(Sender, 0);
        stop -> ok
    end.

reach(_Peer, T) when T =< 0 -> error(peer_unreachable);
reach(Peer, T) ->
    case net_adm:ping(Peer) of
        pong -> ok;
        pang -> timer:sleep(200), reach(Peer, T - 200)
    end.

%% utime + stime of each watched process, in clock ticks.
ticks(Watch) -> [{L, proc_ticks(P)} || {L, P} <- Watch].

proc_ticks(Pid) ->
    {ok, Stat} = file:read_file("/proc/" ++ integer_to_list(Pid) ++ "/stat"),
    %% The command name may hold blanks: fields are counted after its closing parenthesis,
    %% where field 3 (state) comes first; utime and stime are fields 14 and 15.
    [_, Rest] = string:split(Stat, ")", trailing),
    Fields = string:lexemes(Rest, " "),
    binary_to_integer(lists:nth(12, Fields)) + binary_to_integer(lists:nth(13, Fields)).

clock_ticks() ->
    case string:trim(os:cmd("getconf CLK_TCK")) of
        "" -> 100;
        T -> list_to_integer(T)
    end.

watch("none") -> [];
watch(S) -> [begin [L, P] = string:split(E, "="), {L, list_to_integer(P)} end || E <- string:lexemes(S, ",")].

num(X) -> float_to_list(float(X), [{decimals, 6}, compact]).
