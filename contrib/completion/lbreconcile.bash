# bash completion for lbreconcile(1)                     -*- shell-script -*-
#
# Completes commands, each command's options, `help COMMAND`, the state
# subcommands, files for -c and --metrics-file, and pool names for --pool
# (read from the [pool NAME] sections of the config the command would use).

# The config file the command line would use (-c, $LBRECONCILE_CONFIG,
# ./lbreconcile.ini, /etc/lbreconcile/lbreconcile.ini).
_lbreconcile_config()
{
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-c | --config)
			printf '%s\n' "${COMP_WORDS[i + 1]}"
			return
			;;
		--config=*)
			printf '%s\n' "${COMP_WORDS[i]#--config=}"
			return
			;;
		esac
	done
	if [[ -n ${LBRECONCILE_CONFIG-} ]]; then
		printf '%s\n' "$LBRECONCILE_CONFIG"
	elif [[ -f lbreconcile.ini ]]; then
		printf '%s\n' lbreconcile.ini
	else
		printf '%s\n' /etc/lbreconcile/lbreconcile.ini
	fi
}

_lbreconcile_pools()
{
	local cfg
	cfg=$(_lbreconcile_config)
	cfg=${cfg/#\~/$HOME}
	[[ -r $cfg ]] || return
	sed -n 's/^[[:space:]]*\[pool[[:space:]]\{1,\}\([^]]*\)\][[:space:]]*$/\1/p' "$cfg"
}

_lbreconcile()
{
	local cur prev cmd="" i sub=""
	local commands="validate plan apply drift run state providers version help"
	local global="-c --config --json -v --verbose -q --quiet --metrics-file -h --help -V --version"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	-c | --config | --metrics-file)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	-p | --pool)
		mapfile -t COMPREPLY < <(compgen -W "$(_lbreconcile_pools)" -- "$cur")
		return
		;;
	esac

	# The command is the first word that is not an option or an option's
	# value; for `state`, the word after it is the subcommand.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-c | --config | --metrics-file | -p | --pool)
			((i++))
			;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=${COMP_WORDS[i]}
			elif [[ -z $sub ]]; then
				sub=${COMP_WORDS[i]}
			fi
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$global" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return
	fi

	local opts=""
	case $cmd in
	plan) opts="--pool --detailed-exitcode" ;;
	apply) opts="--pool --auto-approve --force" ;;
	drift) opts="--pool" ;;
	run) opts="--once" ;;
	state)
		[[ $sub == unlock ]] && opts="--force"
		if [[ -z $sub && $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "list show unlock" -- "$cur")
			return
		fi
		if [[ $sub == show && $cur != -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_lbreconcile_pools)" -- "$cur")
			return
		fi
		;;
	help)
		if [[ -z $sub ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts $global" -- "$cur")
	fi
}
complete -F _lbreconcile lbreconcile
