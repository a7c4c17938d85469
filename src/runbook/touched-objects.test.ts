import { describe, expect, it } from 'vitest';
import { splitSql } from '../db/sql-split.js';
import { isTouched, touchedObjects } from './touched-objects.js';

describe('touchedObjects', () => {
  it('reads functions, triggers, policies and tables from a change file', () => {
    const sql = `
      CREATE OR REPLACE FUNCTION public.validate_sortie(p_id uuid) RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE TABLE x(); END $$;
      create function sorties_produit_block_update_delete() returns trigger language plpgsql as $f$ begin return new; end $f$;
      DROP TRIGGER IF EXISTS trg_x ON public.receptions;
      CREATE TRIGGER "Trg_Y" BEFORE INSERT ON receptions FOR EACH ROW EXECUTE FUNCTION f();
      CREATE POLICY p_read ON public.stocks_snapshot FOR SELECT TO authenticated USING (true);
      ALTER TABLE ONLY public.sorties_produit DISABLE TRIGGER trg_sortie_before_upd;
      GRANT SELECT ON public.depots TO anon;
      SELECT 1;`;
    expect(touchedObjects(splitSql(sql).statements)).toEqual({
      functions: ['public.sorties_produit_block_update_delete', 'public.validate_sortie'],
      triggers: ['public.receptions.Trg_Y', 'public.receptions.trg_x'],
      policies: ['public.stocks_snapshot.p_read'],
      tables: ['public.depots', 'public.sorties_produit'],
    });
  });

  it('matches fingerprint entries of every overload and the grants of a touched function', () => {
    const t = touchedObjects(
      splitSql('CREATE OR REPLACE FUNCTION public.validate_sortie(p_id uuid) RETURNS void AS $$ $$ LANGUAGE sql;').statements,
    );
    expect(isTouched({ kind: 'function', name: 'public.validate_sortie(p_id uuid)', value: '' }, t)).toBe(true);
    expect(isTouched({ kind: 'function_grant', name: 'public.validate_sortie(p_id uuid) to anon', value: '' }, t)).toBe(true);
    expect(isTouched({ kind: 'function', name: 'public.validate_sortie_v2(p_id uuid)', value: '' }, t)).toBe(false);
    expect(isTouched({ kind: 'trigger', name: 'public.receptions.trg_x', value: '' }, t)).toBe(false);
  });
});
